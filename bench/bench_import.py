"""Import throughput and export time at 10k and 100k findings (SQLite file), beside a baseline measured in
the same run: the bulk insert of the same number of rows with no conversion or validation
(fixtures.load_synthetic, SQLAlchemy Core executemany).

The import is measured end to end as a user meets it: reading our own GeoPackage export, mapping,
validating every row with the model (Observation.parse, including the point-in-municipality check),
deriving areas, checking what is already stored, and writing in one transaction.
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from dke_geo import fixtures
from dke_geo.interop import export, importers
from dke_geo.roles import SYSTEM
from dke_geo.services import areas as area_service
from dke_geo.store.db import make_engine, migrate

SIZES = (10_000, 100_000)
FORMATS = ("gpkg", "geojson", "csv", "kml", "xlsx")


def _engine(folder: Path, name: str):
    engine = make_engine(f"sqlite:///{folder / name}")
    migrate(engine)
    area_service.seed_if_empty(engine)
    return engine


def _timed(action):
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def run(n: int, folder: Path) -> dict:
    source = _engine(folder, f"source-{n}.sqlite")
    baseline, _ = _timed(lambda: fixtures.load_synthetic(source, n, reports=100))
    figures = {"n": n, "baseline_rows_s": n / baseline, "export_s": {}, "size_mb": {}}
    for fmt in FORMATS:
        path = folder / f"export-{n}.{fmt}"
        figures["export_s"][fmt], _ = _timed(lambda p=path, f=fmt: export.export(source, SYSTEM, f, p))
        figures["size_mb"][fmt] = path.stat().st_size / 1e6
    target = _engine(folder, f"target-{n}.sqlite")
    path = folder / f"export-{n}.gpkg"
    dry, report = _timed(lambda: importers.import_findings(target, SYSTEM, path, dry_run=True))
    assert report.new == n and not report.rejected, report.lines("en")[:5]
    real, report = _timed(lambda: importers.import_findings(target, SYSTEM, path))
    assert report.new == n
    again, report = _timed(lambda: importers.import_findings(target, SYSTEM, path))
    assert report.new == 0 and report.existing == n
    figures.update(dry_rows_s=n / dry, import_rows_s=n / real, reimport_s=again, import_s=real)
    return figures


def table(results: list[dict]) -> str:
    lines = ["## Import and export (bench/bench_import.py, SQLite file)", "",
             "| findings | bulk insert baseline (rows/s) | import dry run (rows/s) | import (rows/s) | import (s) "
             "| re-import of the same file (s, adds 0) |",
             "|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        lines.append(f"| {r['n']:,} | {r['baseline_rows_s']:,.0f} | {r['dry_rows_s']:,.0f} | {r['import_rows_s']:,.0f} "
                     f"| {r['import_s']:.1f} | {r['reimport_s']:.1f} |")
    lines += ["", "| findings | " + " | ".join(f"export {f} (s / MB)" for f in FORMATS) + " |",
              "|---:|" + "---:|" * len(FORMATS)]
    for r in results:
        lines.append(f"| {r['n']:,} | " + " | ".join(f"{r['export_s'][f]:.1f} / {r['size_mb'][f]:.1f}"
                                                    for f in FORMATS) + " |")
    lines += ["", "The import validates every row with the model (one pydantic validation and one "
              "point-in-municipality test per row); the baseline writes the same rows with no checks at all."]
    return "\n".join(lines) + "\n"


def main(sizes: tuple[int, ...] = SIZES) -> str:
    """Run the benchmark, print the figures as Markdown and return them (for bench/RESULTS.md)."""
    with tempfile.TemporaryDirectory(prefix="dke-bench-import-") as tmp:
        results = [run(n, Path(tmp)) for n in sizes]
    text = table(results)
    print(text)
    return text


if __name__ == "__main__":
    main(tuple(int(a) for a in sys.argv[1:]) or SIZES)
