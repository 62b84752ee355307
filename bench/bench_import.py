"""Import throughput and export time at 10k / 100k / 1M findings on SQLite and PostGIS, beside a baseline
measured in the same run: the bulk insert of the same number of rows (and n/20 incident reports) with no
conversion or validation (maintenance.load_synthetic, SQLAlchemy Core executemany: the shared store of
bench/common.py).

Above SLOW_ABOVE findings only the GeoPackage and CSV exports and the import itself are timed: KML and Excel
take 10 to 20 minutes at 1M, and the dry run and re-import go at the import's own pace, so `make bench` stays
bounded.

The import is measured end to end as a user meets it: reading our own GeoPackage export, mapping,
validating every row with the model (Observation.parse, including the point-in-municipality check),
deriving areas, checking what is already stored, and writing in one transaction.
"""
from __future__ import annotations

import sys
import time

from bench import common
from dke_geo.roles import SYSTEM
from dke_geo.services import exports, imports

FORMATS = ("gpkg", "geojson", "csv", "kml", "xlsx")
SLOW_ABOVE = 100_000


def _timed(action):
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def run(db: str, n: int) -> dict:
    source = common.store(db, n)
    folder = common.folder()
    full = n <= SLOW_ABOVE
    figures = {"db": db, "n": n, "baseline_rows_s": n / common.load_seconds(db, n), "export_s": {}, "size_mb": {}}
    rows = n  # the store's findings as exported (another script of the run may have added a few)
    for fmt in FORMATS if full else ("gpkg", "csv"):
        path = folder / f"export-{db}-{n}.{fmt}"
        figures["export_s"][fmt], counts = _timed(lambda p=path, f=fmt: exports.export(source, SYSTEM, f, p))
        figures["size_mb"][fmt] = path.stat().st_size / 1e6
        rows = counts["observations"]
    target = common.empty(db, f"import_target_{n}")
    path = folder / f"export-{db}-{n}.gpkg"
    if full:
        dry, report = _timed(lambda: imports.import_findings(target, SYSTEM, path, dry_run=True))
        assert report.new == rows and not report.rejected, report.lines("en")[:5]
        figures["dry_rows_s"] = rows / dry
    real, report = _timed(lambda: imports.import_findings(target, SYSTEM, path))
    assert report.new == rows and not report.rejected, report.lines("en")[:5]
    figures.update(import_rows_s=rows / real, import_s=real)
    if full:
        again, report = _timed(lambda: imports.import_findings(target, SYSTEM, path))
        assert report.new == 0 and report.existing == rows
        figures["reimport_s"] = again
    target.close()
    return figures


def _cell(value: float | None, spec: str) -> str:
    return "–" if value is None else format(value, spec)


def table(results: list[dict]) -> str:
    lines = ["## Import and export (bench/bench_import.py)", "",
             "| database | findings | bulk insert baseline (rows/s) | import dry run (rows/s) | import (rows/s) "
             "| import (s) | re-import of the same file (s, adds 0) |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        lines.append(f"| {common.LABELS[r['db']]} | {r['n']:,} | {r['baseline_rows_s']:,.0f} "
                     f"| {_cell(r.get('dry_rows_s'), ',.0f')} | {r['import_rows_s']:,.0f} | {r['import_s']:.1f} "
                     f"| {_cell(r.get('reimport_s'), '.1f')} |")
    lines += ["", "| database | findings | " + " | ".join(f"export {f} (s / MB)" for f in FORMATS) + " |",
              "|---|---:|" + "---:|" * len(FORMATS)]
    for r in results:
        lines.append(f"| {common.LABELS[r['db']]} | {r['n']:,} | " + " | ".join(
            f"{r['export_s'][f]:.1f} / {r['size_mb'][f]:.1f}" if f in r["export_s"] else "–" for f in FORMATS) + " |")
    lines += ["", "The import validates every row with the model (one pydantic validation and one "
              "point-in-municipality test per row); the baseline writes the same rows with no checks at all. "
              f"–: not timed above {SLOW_ABOVE:,} findings (see the module's docstring)."]
    return "\n".join(lines) + "\n"


def main(sizes: tuple[int, ...] = common.SIZES) -> str:
    """Run the benchmark, print the figures as Markdown and return them (for bench/RESULTS.md)."""
    results = [run(db, n) for db in common.DATABASES for n in sizes]
    text = table(results)
    print(text)
    return text


if __name__ == "__main__":
    main(tuple(int(a) for a in sys.argv[1:]) or common.SIZES)
