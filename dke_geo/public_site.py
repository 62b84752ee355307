"""The public map as a self-contained static site for the municipality's website: the pages and files written
from a `PublicView` (the use case, `python -m dke_geo publish`, is services/public.write_site).

index.html (texts, density and findings tables, approved photos) frames map.html (the folium map). Scripts
and styles are our own copies under assets/vendor/, referenced relatively; the only outside resource is the
configured tile server, and a Content-Security-Policy in each page says so to the browser. The content is
the same `PublicView` the public page shows, so nothing internal can be in it; every text is escaped.

No database here: what the site can show is exactly what the view holds.
"""
from __future__ import annotations

import html
import shutil
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import geopandas as gpd
from branca.element import Element

from dke_geo import config
from dke_geo.i18n import t
from dke_geo.maps.base import render
from dke_geo.maps.public import public_map
from dke_geo.public import PublicView, date_label

VENDOR = config.ROOT / "static" / "vendor"
ASSET_BASE = "assets/vendor"
MARKER = ".dke-geo-site"  # marks a folder as ours, so a new export may replace it


def tile_origin() -> str:
    """The configured tile server as a CSP source ("" when no tiles): `{s}` subdomains become `*`."""
    url = config.get("DKE_GEO_TILE_URL")
    if not url:
        return ""
    parts = urlsplit(url.replace("{s}", "*"))
    return f"{parts.scheme}://{parts.netloc}"


def _csp(scripts: bool) -> str:
    images = " ".join(filter(None, ["'self'", "data:", tile_origin()]))
    script = "'self' 'unsafe-inline'" if scripts else "'none'"
    return (f"default-src 'none'; script-src {script}; style-src 'self' 'unsafe-inline'; img-src {images}; "
            "frame-src 'self'; base-uri 'none'; form-action 'none'")


def _meta_csp(scripts: bool) -> str:
    return f'<meta http-equiv="Content-Security-Policy" content="{html.escape(_csp(scripts))}">'


def index_html(view: PublicView, made: datetime) -> str:
    """The site's front page: what an area walk is, the map (framed), density by area, the findings."""
    lang, e = view.lang, html.escape

    def tr(key: str, **values) -> str:
        return e(t(key, lang, **values))

    density = "".join(f"<tr><td>{e(d.name)}</td><td class=n>{d.findings}</td><td class=n>{d.per_km2:g}</td></tr>"
                      for d in view.density)
    rows = []
    for f in view.findings:
        caption = tr("public.photo_caption", category=f.category_label, area=f.area, month=f.month)
        images = "".join(f'<img src="photos/{e(p.name)}" alt="{caption}" width="{p.width}" height="{p.height}">'
                         for p in f.photos)
        rows.append(f"<tr><td>{e(f.icon)} {e(f.category_label)}</td><td>{e(f.area)}</td><td>{e(f.month)}</td>"
                    f"<td>{e(f.text)}{images}</td><td>{e(f.status)}</td></tr>")
    findings = (f"<table class=findings><thead><tr><th>{tr('public.col.category')}</th><th>{tr('public.col.area')}"
                f"</th><th>{tr('public.col.month')}</th><th>{tr('public.col.text')}</th>"
                f"<th>{tr('public.col.status')}</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
                if rows else f"<p>{tr('public.empty')}</p>")
    return f"""<!DOCTYPE html>
<html lang="{e(lang)}">
<head>
<meta charset="utf-8">
{_meta_csp(scripts=False)}
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{tr('public.title')}</title>
<style>
body {{ font: 16px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 1100px; padding: 0 16px; color: #222 }}
iframe {{ width: 100%; height: 70vh; border: 1px solid #ccc }}
table {{ border-collapse: collapse; width: 100%; margin-bottom: 24px }}
th, td {{ border-bottom: 1px solid #ddd; padding: 6px 8px; text-align: left; vertical-align: top }}
td.n {{ text-align: right }}
table.findings img {{ display: block; max-width: 320px; height: auto; margin-top: 6px }}
footer {{ color: #666; font-size: 14px; margin: 24px 0 }}
</style>
</head>
<body>
<h1>{tr('public.title')}</h1>
<p><em>{tr('public.from')}</em></p>
<p>{tr('public.what_is_a_walk')}</p>
<p>{tr('public.count', n=len(view.findings))}</p>
<h2>{tr('public.map')}</h2>
<iframe src="map.html" title="{tr('public.map')}"></iframe>
<h2>{tr('public.density')}</h2>
<table class=density><thead><tr><th>{tr('public.col.area')}</th><th>{tr('public.col.findings')}</th>
<th>{tr('public.col.per_km2')}</th></tr></thead><tbody>{density}</tbody></table>
<h2>{tr('public.findings')}</h2>
{findings}
<footer>{tr('public.static_note', date=date_label(made, lang))}</footer>
</body>
</html>
"""


def map_html(view: PublicView, areas: gpd.GeoDataFrame) -> str:
    """The map page: the public map with relative asset paths and photo links, under a CSP."""
    m = public_map(view, areas, lambda p: f"photos/{p.name}", asset_base=ASSET_BASE)
    m.get_root().header.add_child(Element(_meta_csp(scripts=True) + '<meta name="referrer" content="no-referrer">'),
                                  name="dke_csp", index=0)
    return render(m)


def write(folder: Path, view: PublicView, areas: gpd.GeoDataFrame, made: datetime) -> dict[str, int]:
    """Write the site of `view` into the empty `folder`; returns how many findings and photos it holds."""
    shutil.copytree(VENDOR, folder / ASSET_BASE, ignore=shutil.ignore_patterns("README.md"))
    (folder / "photos").mkdir()
    photos = {p.name: p.data for f in view.findings for p in f.photos}
    for name, data in photos.items():
        (folder / "photos" / name).write_bytes(data)
    (folder / "map.html").write_text(map_html(view, areas), encoding="utf-8")
    (folder / "index.html").write_text(index_html(view, made), encoding="utf-8")
    (folder / MARKER).write_text("written by python -m dke_geo publish; replaced by the next export\n")
    return {"findings": len(view.findings), "photos": len(photos)}
