"""Import and export at 100k (and 1M) findings on SQLite and PostGIS, each beside a no-check baseline measured in
the same run (issue 15's goals):

- import of our own GeoPackage export: the real import (read, map, check every row as the model would, derive
  areas, skip what is stored, write in one transaction) against reading it with pyogrio, reprojecting, testing
  every point against the municipality with shapely and bulk-inserting with pandas' `to_sql`, into an empty
  database of the same kind. Goal: at most 2x the baseline at 100,000 on both databases; 1,000,000 on PostGIS
  within 60 s, with a peak memory (RSS of the importing process, run as a subprocess) within 2 GB.
- export in every format: the real export (labels, statuses, formula guard, escaping, the atomic rename) against
  writing the same findings, read the same way, with pyogrio (GeoPackage, GeoJSON, KML), pandas (CSV) or openpyxl
  in write-only mode (Excel), with no preparation at all. Goal: at most 2x at 100,000.

Each figure is the median of REPEAT runs (one at 1,000,000). The 1,000,000 import runs on PostGIS only (the goal
is stated there); other scripts' stores are shared through bench/common.py.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import pyogrio
import shapely
from openpyxl import Workbook
from sqlalchemy import select

from bench import common
from dke_geo import geo
from dke_geo.roles import SYSTEM
from dke_geo.services import exports, imports
from dke_geo.store import observations as obs_store
from dke_geo.store.tables import observations, walks

FORMATS = ("gpkg", "geojson", "csv", "kml", "xlsx")
REPEAT = 3
BIG = 1_000_000
GOALS = {"import_ratio": 2.0, "export_ratio": 2.0, "import_1m_s": 60.0, "rss_1m_gb": 2.0}
ROOT = Path(__file__).resolve().parents[1]


def _median(action, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# ---------------------------------------------------------------- export
def _baseline_export(ctx, fmt: str, out: Path) -> None:
    """The findings read the same way (whole columns), written by the library with no preparation."""
    frame = obs_store.frame(ctx.columns, exports.OBSERVATION_COLUMNS)
    if fmt == "csv":
        frame.to_csv(out, index=False)
        return
    if fmt == "xlsx":
        book = Workbook(write_only=True)
        sheet = book.create_sheet("observations")
        sheet.append(list(frame.columns))
        for column in frame.columns:
            if hasattr(frame[column], "dt") and frame[column].dt.tz is not None:
                frame[column] = frame[column].dt.tz_localize(None)
        for row in frame.astype(object).where(frame.notna(), None).itertuples(index=False, name=None):
            sheet.append(row)
        book.save(out)
        return
    layer = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame["lon"], frame["lat"]), crs=geo.WGS84)
    driver = {"gpkg": "GPKG", "geojson": "GeoJSON", "kml": "KML"}[fmt]
    out.unlink(missing_ok=True)
    pyogrio.write_dataframe(layer, out, layer="observations", driver=driver, use_arrow=fmt != "kml")


def _exports(db: str, n: int, repeat: int, formats) -> dict:
    source, folder = common.store(db, n), common.folder()
    figures = {}
    for fmt in formats:
        ours = folder / f"export-{db}-{n}.{fmt}"
        plain = folder / f"baseline-{db}-{n}.{fmt}"
        figures[fmt] = {"ours": _median(lambda p=ours, f=fmt: exports.export(source, SYSTEM, f, p), repeat),
                        "baseline": _median(lambda p=plain, f=fmt: _baseline_export(source, f, p), repeat),
                        "mb": ours.stat().st_size / 1e6}
    return figures


# ---------------------------------------------------------------- import
def _baseline_import(target, path: Path) -> int:
    """pyogrio read, reprojection, the municipality test with shapely, pandas' bulk insert: no checks."""
    frame = pyogrio.read_dataframe(path, layer="observations", use_arrow=True)
    metric = frame.geometry.to_crs(geo.METRIC)
    inside = shapely.contains_xy(geo._boundary_metric(), metric.x.to_numpy(), metric.y.to_numpy())
    assert inside.mean() > 0.9  # tested, not acted on: the baseline refuses nothing
    rows = frame[[c for c in frame.columns if c in observations.c]].assign(deleted=False)
    rows.to_sql("observations", target.engine, if_exists="append", index=False, chunksize=50_000,
                method=None)
    return len(rows)


def _with_walks(db: str, name: str, source) -> object:
    """An empty database of the same kind with the source's walks (the baseline writes findings only)."""
    target = common.empty(db, name)
    with source.engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(select(walks))]
    with target.engine.begin() as conn:
        conn.execute(walks.insert(), rows)
    return target


def _imports(db: str, n: int, repeat: int) -> dict:
    source, folder = common.store(db, n), common.folder()
    path = folder / f"import-{db}-{n}.gpkg"
    if not path.exists():
        exports.export(source, SYSTEM, "gpkg", path)
    ours, plain = [], []
    for run in range(repeat):
        target = common.empty(db, f"import_{db}_{n}_{run}")
        start = time.perf_counter()
        report = imports.import_findings(target, SYSTEM, path)
        ours.append(time.perf_counter() - start)
        assert report.new == n and not report.rejected, report.lines("en")[:5]
        baseline_target = _with_walks(db, f"baseline_{db}_{n}_{run}", source)
        start = time.perf_counter()
        assert _baseline_import(baseline_target, path) == n
        plain.append(time.perf_counter() - start)
        target.close()
        baseline_target.close()
    return {"ours": statistics.median(ours), "baseline": statistics.median(plain)}


_CHILD = """
import json, resource, sys, time
from pathlib import Path
from dke_geo import config
from dke_geo.context import AppContext
from dke_geo.roles import SYSTEM
from dke_geo.services import imports
ctx = AppContext.open(config.load())
start = time.perf_counter()
report = imports.import_findings(ctx, SYSTEM, Path(sys.argv[1]))
seconds = time.perf_counter() - start
ctx.close()
print(json.dumps({"new": report.new, "seconds": seconds,
                  "rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20}))
"""


def _big_import(db: str, n: int) -> dict:
    """The import of n findings in its own process: its time and its peak resident memory."""
    source, folder = common.store(db, n), common.folder()
    path = folder / f"import-{db}-{n}.gpkg"
    if not path.exists():
        exports.export(source, SYSTEM, "gpkg", path)
    target = common.empty(db, f"import_{db}_{n}_child")
    env = {**os.environ, "DKE_GEO_DATABASE_URL": target.settings.database_url}
    done = subprocess.run([sys.executable, "-c", _CHILD, str(path)], cwd=ROOT, env=env, capture_output=True,
                          text=True, check=True)
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["new"] == n, figures
    baseline_target = _with_walks(db, f"baseline_{db}_{n}_big", source)
    start = time.perf_counter()
    _baseline_import(baseline_target, path)
    figures["baseline"] = time.perf_counter() - start
    return figures


# ---------------------------------------------------------------- report
def _verdict(value: float, goal: float) -> str:
    return f"≤ {goal:g}: {'met' if value <= goal else 'NOT met'}"


def table(results: dict, load: str) -> str:
    lines = ["## Import and export (bench/bench_import.py)", "",
             f"Medians of {REPEAT} runs (one at 1,000,000); load average during the run: {load}. The baselines do "
             "no checking at all (see the module's docstring).", "",
             "| database | findings | import (s) | baseline: pyogrio + shapely + pandas to_sql (s) | ratio | goal |",
             "|---|---:|---:|---:|---:|---|"]
    for (db, n), r in results["import"].items():
        ratio = r["ours"] / r["baseline"]
        lines.append(f"| {common.LABELS[db]} | {n:,} | {r['ours']:.1f} | {r['baseline']:.1f} | {ratio:.2f} "
                     f"| {_verdict(ratio, GOALS['import_ratio'])} |")
    for (db, n), r in results["big"].items():
        lines.append(f"| {common.LABELS[db]} | {n:,} | {r['seconds']:.1f} | {r['baseline']:.1f} "
                     f"| {r['seconds'] / r['baseline']:.2f} | {_verdict(r['seconds'], GOALS['import_1m_s'])} s; "
                     f"peak memory {r['rss_gb']:.2f} GB {_verdict(r['rss_gb'], GOALS['rss_1m_gb'])} GB |")
    lines += ["", "| database | findings | format | export (s) | baseline, library only (s) | ratio | goal | MB |",
              "|---|---:|---|---:|---:|---:|---|---:|"]
    for (db, n), formats in results["export"].items():
        for fmt, r in formats.items():
            ratio = r["ours"] / r["baseline"]
            lines.append(f"| {common.LABELS[db]} | {n:,} | {fmt} | {r['ours']:.1f} | {r['baseline']:.1f} | "
                         f"{ratio:.2f} | {_verdict(ratio, GOALS['export_ratio'])} | {r['mb']:.1f} |")
    return "\n".join(lines) + "\n"


def main(sizes: tuple[int, ...] = common.SIZES) -> str:
    """Run the benchmark, print the figures as Markdown and return them (for bench/RESULTS.md)."""
    load = f"{os.getloadavg()[0]:.1f} at the start"
    results: dict = {"import": {}, "export": {}, "big": {}}
    for db in common.DATABASES:
        for n in sizes:
            if n >= BIG:
                if db == "postgis":
                    results["big"][(db, n)] = _big_import(db, n)
                continue
            results["import"][(db, n)] = _imports(db, n, REPEAT)
            results["export"][(db, n)] = _exports(db, n, REPEAT, FORMATS)
    load += f", {os.getloadavg()[0]:.1f} at the end"
    text = table(results, load)
    print(text)
    return text


if __name__ == "__main__":
    main(tuple(int(a) for a in sys.argv[1:]) or common.SIZES)
