"""Public export time at 10k / 100k / 1M findings on SQLite and PostGIS (1 in 16 published), beside the naive
folium baseline measured in the same run.

Measured as the public meets it: the public view (published findings only, read through the whitelist),
the static site for the municipality's website (`python -m dke_geo publish`: index.html with the findings table,
map.html with the public map), and the public GeoJSON and CSV downloads. The baseline is a plain folium map
with one `folium.Marker` and popup per published finding, saved as HTML: the per-marker approach the public map
is measured against. It is timed on up to BASELINE_MAX markers; above that its time is extrapolated from the
measured cost per marker (marked "≈", it grows at least linearly) so the run stays bounded.
"""
from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import func, select

from bench import common
from dke_geo.public import PublicFinding
from dke_geo.roles import PUBLIC
from dke_geo.services import exports
from dke_geo.services import public as public_service
from dke_geo.store.db import reading
from dke_geo.store.tables import observations

BASELINE_MAX = 10_000


def naive_folium(findings: Sequence[PublicFinding], out: Path) -> float:
    """Seconds to build and save a folium map with one Marker and popup per published finding."""
    seconds, _ = common.timed(lambda: out.write_text(common.naive_html(findings), encoding="utf-8"))
    return seconds


def run(db: str, n: int) -> dict:
    ctx = common.store(db, n)
    with reading(ctx.engine) as conn:
        published = conn.execute(select(func.count()).select_from(observations)
                                 .where(observations.c.published.is_(True))).scalar_one()
    out = common.folder() / f"public-{db}-{n}"
    fresh = common.fresh(ctx)  # the view is built once per data version: timed on a context that has none yet
    try:
        view_s, view = common.timed(lambda: public_service.view(fresh, "da"))
    finally:
        fresh.close()
    site_s, site = common.timed(lambda: public_service.write_site(ctx, out / "site", "da"))
    assert site["findings"] == published == len(view.findings)
    figures = {"db": db, "n": n, "published": published, "view_s": view_s, "site_s": site_s,
               "map_mb": (out / "site" / "map.html").stat().st_size / 1e6,
               "index_mb": (out / "site" / "index.html").stat().st_size / 1e6}
    for fmt in ("geojson", "csv"):
        path = out / f"public.{fmt}"
        figures[f"{fmt}_s"], _ = common.timed(lambda p=path, f=fmt: exports.export(ctx, PUBLIC, f, p, public=True))
        figures[f"{fmt}_mb"] = path.stat().st_size / 1e6
    sample = view.findings[:BASELINE_MAX]
    baseline = naive_folium(sample, out / "naive.html")
    figures["baseline_s"] = baseline * published / max(len(sample), 1)
    figures["baseline_mb"] = (out / "naive.html").stat().st_size / 1e6 * published / max(len(sample), 1)
    figures["baseline_measured"] = len(sample) == published
    return figures


def table(results: list[dict]) -> str:
    lines = ["## Public export (bench/bench_public_export.py)", "",
             f"{common.PUBLISHED_SHARE} findings published. Site: `python -m dke_geo publish` (public view, map.html, "
             "index.html). Baseline: folium with one Marker and popup per published finding, measured in the same "
             f"run on up to {BASELINE_MAX:,} markers (≈: extrapolated from its cost per marker).", "",
             "| database | findings | published | public view (s) | static site (s) | map.html (MB) | index.html (MB) "
             "| GeoJSON (s / MB) | CSV (s / MB) | naive folium baseline (s / MB) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        approx = "" if r["baseline_measured"] else "≈"
        lines.append(f"| {common.LABELS[r['db']]} | {r['n']:,} | {r['published']:,} | {r['view_s']:.1f} "
                     f"| {r['site_s']:.1f} | {r['map_mb']:.1f} | {r['index_mb']:.1f} "
                     f"| {r['geojson_s']:.1f} / {r['geojson_mb']:.1f} | {r['csv_s']:.1f} / {r['csv_mb']:.1f} "
                     f"| {approx}{r['baseline_s']:.1f} / {approx}{r['baseline_mb']:.1f} |")
    return "\n".join(lines) + "\n"


def main(sizes: tuple[int, ...] = common.SIZES) -> str:
    """Run the benchmark, print the figures as Markdown and return them (for bench/RESULTS.md)."""
    results = []
    for db in common.DATABASES:
        for n in sizes:
            results.append(run(db, n))
            print(f"   {common.LABELS[db]} {n:,}: site {results[-1]['site_s']:.1f} s", flush=True)
    text = table(results)
    print(text)
    return text


if __name__ == "__main__":
    main(tuple(int(a) for a in sys.argv[1:]) or common.SIZES)
