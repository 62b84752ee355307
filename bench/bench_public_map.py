"""The residents' map at scale (issue 17, point 5): 10,000 published findings on the public page and in the static
site, aggregated (clusters at low zoom, a pin each when zoomed in), beside one folium Marker per finding measured in
the same run.

The store: `common.published_store(db, 10_000)`, 10,000 synthetic findings (and 500 incident reports), every one
published with a public text of its own (no two alike, so the page's data cannot write one text for many). Measured:
- the page's document built through the functions the page calls (ui/public_page.page: the public view read through
  the whitelist, the map and list drawn to HTML), cold on a fresh context (median of 3) and cached: the same context
  again, as the page's second view and every rerun meet it (median of 5);
- the static site (`python -m dke_geo publish`: services/public.write_site) built on a fresh context, as a new CLI
  run builds it (median of 3); its index.html + map.html (the findings' data is in map.html) and all its files;
- drawn in headless Debian chromium at 1280x800 and 390x844 (median of 3 each): from navigation to the second
  animation frame after the map holds its clusters (`html[data-ready]`, set by public_map.js, and a cluster in the
  marker pane). The page's document is served as a page of its own (the app shows it in a frame); the static site
  from index.html, which frames map.html. Map tiles are refused at once (no outside requests);
- the baseline: a plain folium map with one Marker, popup and tooltip per published finding (common.naive_html),
  built from the same public view (no database read), its HTML size and its draw (loaded, then two frames), once
  per viewport: it takes about a minute each.

Targets (issue 17.5): page HTML <= 2 MB, drawn in chromium <= 1.5 s, server build <= 1 s cached.
"""
from __future__ import annotations

import os

from playwright.sync_api import sync_playwright

from bench import common
from dke_geo.services import public as public_service
from dke_geo.ui import public_page

N = 10_000
LANG = "da"
VIEWPORTS = ((1280, 800), (390, 844))
READY = "document.querySelector('html[data-ready] .leaflet-marker-pane .dke-cluster') !== null"
TARGETS = {"mb": 2.0, "cached": 1.0, "draw": 1.5}


def _builds(db: str, site: common.Site) -> dict:
    """Cold and cached page builds, and the static site built into `site` (as `publish` does: a fresh context)."""
    ctx = common.published_store(db, N)
    cold_s, page = common.fresh_times(ctx, lambda context: public_page.page(context, LANG))
    context = common.fresh(ctx)
    try:
        public_page.page(context, LANG)
        cached_s, _ = common.timed(lambda: public_page.page(context, LANG), 5)
    finally:
        context.close()
    out = site.dir / f"site-{db}"
    site_s, written = common.fresh_times(ctx, lambda context: public_service.write_site(context, out, LANG))
    assert len(page.view.findings) == written["findings"] == N
    files = [p for p in out.rglob("*") if p.is_file()]
    figures = {"db": db, "page": page, "cold": cold_s, "cached": cached_s, "site": site_s, "site_dir": out.name,
               "page_mb": len(page.html.encode()) / 1e6,
               "site_mb": sum((out / name).stat().st_size for name in ("index.html", "map.html")) / 1e6,
               "site_all_mb": sum(p.stat().st_size for p in files) / 1e6, "site_files": len(files)}
    print(f"  {common.LABELS[db]}: page cold {cold_s:.2f} s, cached {cached_s * 1000:.2f} ms, "
          f"{figures['page_mb']:.2f} MB; static site {site_s:.2f} s, index + map {figures['site_mb']:.2f} MB",
          flush=True)
    return figures


def _draws(browser, url: str, **how) -> list[float]:
    """The draw times of `url` at each of VIEWPORTS (common.draw_seconds, `how` its options)."""
    return [common.draw_seconds(browser, url, viewport=size, **how) for size in VIEWPORTS]


def _verdict(value: float, target: float) -> str:
    return f"≤ {target:g}: {'met' if value <= target else 'MISSED'}"


def main() -> str:
    load = os.getloadavg()[0]
    site = common.Site()
    with sync_playwright() as p:
        browser = common.chromium(p)
        try:
            builds = [_builds(db, site) for db in common.DATABASES]
            first = builds[0]
            page_draw = _draws(browser, site.url("public-page.html", first["page"].html), ready=READY)
            print(f"  page drawn in {' / '.join(f'{s:.2f}' for s in page_draw)} s", flush=True)
            site_draw = _draws(browser, site.url(f"{first['site_dir']}/index.html"), ready=READY, frame="map.html")
            print(f"  static site drawn in {' / '.join(f'{s:.2f}' for s in site_draw)} s", flush=True)
            naive_s, naive = common.timed(lambda: common.naive_html(first["page"].view.findings))
            naive_draw = _draws(browser, site.url("naive.html", naive), repeat=1)
            print(f"  baseline: built {naive_s:.2f} s, {len(naive.encode()) / 1e6:.2f} MB, drawn in "
                  f"{' / '.join(f'{s:.2f}' for s in naive_draw)} s", flush=True)
        finally:
            browser.close()
            site.close()
    naive_mb = len(naive.encode()) / 1e6
    sizes = " / ".join(f"{w}x{h}" for w, h in VIEWPORTS)
    lines = ["## Public map at scale (bench/bench_public_map.py)", "",
             f"{N:,} findings, every one published with a text of its own (`common.published_store`). *Cold*: "
             "ui/public_page.page on a fresh app context (public view read through the whitelist, map and list "
             "drawn to HTML); *cached*: the same context again, as the page's second view; *static site*: "
             "services/public.write_site (`python -m dke_geo publish`) on a fresh context. *Drawn*: headless "
             "chromium, navigation to the second animation frame after the map holds its clusters "
             "(`html[data-ready]` and a cluster drawn), median of 3; the static site from index.html, which frames "
             "map.html; tiles refused. Baseline, same run: a plain folium map with one Marker, popup and tooltip "
             "per published finding, built from the same public view, drawn once per viewport. "
             f"Load average {load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end ({os.cpu_count()} cores).",
             "",
             "| database | published | page cold (s) | page cached (ms) | static site built (s) |",
             "|---|---:|---:|---:|---:|"]
    for b in builds:
        lines.append(f"| {common.LABELS[b['db']]} | {N:,} | {b['cold']:.2f} | {b['cached'] * 1000:.2f} "
                     f"| {b['site']:.2f} |")
    lines += ["", f"| {N:,} published findings | built (s) | HTML (MB) | drawn {sizes} (s) |", "|---|---:|---:|---:|",
              f"| public page document, clusters ({common.LABELS[first['db']]}) | {first['cold']:.2f} cold, "
              f"{first['cached'] * 1000:.2f} ms cached | {first['page_mb']:.2f} "
              f"| {' / '.join(f'{s:.2f}' for s in page_draw)} |",
              f"| static site: index.html + map.html (all {first['site_files']} files: "
              f"{first['site_all_mb']:.2f} MB) | {first['site']:.2f} | {first['site_mb']:.2f} "
              f"| {' / '.join(f'{s:.2f}' for s in site_draw)} |",
              f"| baseline: one folium Marker with popup per finding | {naive_s:.2f} | {naive_mb:.2f} "
              f"| {' / '.join(f'{s:.2f}' for s in naive_draw)} |",
              "", "| target (issue 17.5) | measured | baseline | verdict |", "|---|---:|---:|---|",
              f"| page HTML (MB) | {first['page_mb']:.2f} | {naive_mb:.2f} "
              f"| {_verdict(first['page_mb'], TARGETS['mb'])} |",
              f"| static site index.html + map.html (MB) | {first['site_mb']:.2f} | {naive_mb:.2f} "
              f"| {_verdict(first['site_mb'], TARGETS['mb'])} |"]
    for b in builds:
        lines.append(f"| {common.LABELS[b['db']]}: server build, cached (s) | {b['cached']:.4f} | {naive_s:.2f} "
                     f"| {_verdict(b['cached'], TARGETS['cached'])} |")
    for what, draws in (("page", page_draw), ("static site", site_draw)):
        for (w, h), seconds, base in zip(VIEWPORTS, draws, naive_draw, strict=True):
            lines.append(f"| {what} drawn at {w}x{h} (s) | {seconds:.2f} | {base:.2f} "
                         f"| {_verdict(seconds, TARGETS['draw'])} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(main())
