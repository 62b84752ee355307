"""The public map as a self-contained static site for the municipality's website: the pages and files written
from a `PublicView` (the use case, `python -m dke_geo publish`, is services/public.write_site).

index.html (what an area walk is, density by area, the accessibility statement's link) frames map.html (the
residents' map with its legend and the list of findings beside it, maps/public.py), sized to it by
assets/frame.js; tilgaengelighed.html is the accessibility statement. Scripts and styles are our own copies under
assets/, referenced relatively; the only outside resource is the configured tile server, and a
Content-Security-Policy in each page says so to the browser. The content is the same `PublicView` the public page
shows, so nothing internal can be in it; every text is escaped.

No database here: what the site can show is exactly what the view holds.
"""
from __future__ import annotations

import html
import shutil
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import geopandas as gpd

from dke_geo import config
from dke_geo.accessibility import Statement
from dke_geo.i18n import t
from dke_geo.maps.public import document, public_map
from dke_geo.public import PublicView, date_label

VENDOR = config.ROOT / "static" / "vendor"
ASSET_BASE = "assets/vendor"
MARKER = ".dke-geo-site"  # marks a folder as ours, so a new export may replace it
STATEMENT = "tilgaengelighed.html"
FRAME_JS = """// Sizes the map's frame to the page in it (map.html reports its height), so the list reads without
// a second scroll bar on a phone. Without JavaScript the frame keeps the height index.html gives it.
window.addEventListener("message", function (event) {
  var frame = document.getElementById("dke-frame");
  if (event.source === frame.contentWindow && event.data && event.data.type === "dke-height") {
    frame.style.height = Math.ceil(event.data.height) + "px";
  }
});
"""
_STYLE = """body { font: 16px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 1200px; padding: 0 16px;
  color: #1a1a1a; background: #fff }
a { color: #0b3d91 } a:focus-visible, iframe:focus-visible { outline: 3px solid #0b57d0; outline-offset: 2px }
iframe { width: 100%; height: 780px; border: 0; display: block }
table { border-collapse: collapse; width: 100%; margin-bottom: 24px }
caption { text-align: left; font-weight: 600; padding: 4px 0 }
th, td { border-bottom: 1px solid #b3b3b3; padding: 6px 8px; text-align: left; vertical-align: top }
td.n { text-align: right }
footer { color: #3d3d3d; font-size: 15px; margin: 24px 0 }"""


def tile_origin() -> str:
    """The configured tile server as a CSP source ("" when no tiles): `{s}` subdomains become `*`."""
    url = config.get("DKE_GEO_TILE_URL")
    if not url:
        return ""
    parts = urlsplit(url.replace("{s}", "*"))
    return f"{parts.scheme}://{parts.netloc}"


def _csp(inline_scripts: bool) -> str:
    images = " ".join(filter(None, ["'self'", "data:", tile_origin()]))
    script = "'self' 'unsafe-inline'" if inline_scripts else "'self'"
    return (f"default-src 'none'; script-src {script}; style-src 'self' 'unsafe-inline'; img-src {images}; "
            "frame-src 'self'; base-uri 'none'; form-action 'none'")


def _meta_csp(inline_scripts: bool) -> str:
    return f'<meta http-equiv="Content-Security-Policy" content="{html.escape(_csp(inline_scripts))}">'


def _page(lang: str, title: str, body: str) -> str:
    """A page of the site: language, CSP (scripts only from the site itself), no referrer, zoomable, our style."""
    e = html.escape
    return f"""<!DOCTYPE html>
<html lang="{e(lang)}">
<head>
<meta charset="utf-8">
{_meta_csp(inline_scripts=False)}
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{e(title)}</title>
<style>
{_STYLE}
</style>
</head>
<body>
{body}
</body>
</html>
"""


def index_html(view: PublicView, made: datetime) -> str:
    """The site's front page: what an area walk is, the map and list (framed), density by area, the statement."""
    lang, e = view.lang, html.escape

    def tr(key: str, **values) -> str:
        return e(t(key, lang, **values))

    density = "".join(f"<tr><th scope=row>{e(d.name)}</th><td class=n>{d.findings}</td><td class=n>{d.per_km2:g}</td>"
                      "</tr>" for d in view.density)
    body = f"""<header>
<h1>{tr('public.title')}</h1>
<p><em>{tr('public.from')}</em></p>
</header>
<main>
<p>{tr('public.what_is_a_walk')}</p>
<p>{tr('public.count', n=len(view.findings)) if view.findings else tr('public.empty')}</p>
<h2>{tr('public.map')}</h2>
<iframe id="dke-frame" src="map.html" title="{tr('public.map.frame')}"></iframe>
<h2>{tr('public.density')}</h2>
<table class=density>
<thead><tr><th scope=col>{tr('public.col.area')}</th><th scope=col>{tr('public.col.findings')}</th>
<th scope=col>{tr('public.col.per_km2')}</th></tr></thead><tbody>{density}</tbody></table>
</main>
<footer><p>{tr('public.static_note', date=date_label(made, lang))}</p>
<p><a href="{STATEMENT}">{tr('public.statement_link')}</a></p></footer>
<script src="assets/frame.js"></script>"""
    return _page(lang, t("public.title", lang), body)


def statement_html(statement: Statement) -> str:
    """The accessibility statement as a page of the site."""
    e = html.escape
    sections = "".join(f"<h2>{e(heading)}</h2>" + "".join(f"<p>{e(p)}</p>" for p in paragraphs)
                       + (f"<ul>{''.join(f'<li>{e(i)}</li>' for i in items)}</ul>" if items else "")
                       for heading, paragraphs, items in statement.sections)
    body = (f"<main><h1>{e(statement.title)}</h1>{sections}"
            f'<p><a href="index.html">{e(t("public.title", statement.lang))}</a></p></main>')
    return _page(statement.lang, statement.title, body)


def map_html(view: PublicView, areas: gpd.GeoDataFrame) -> str:
    """The map page: the public map with relative asset paths and photo links, under a CSP."""
    m = public_map(view, areas, lambda p: f"photos/{p.name}", asset_base=ASSET_BASE)
    return document(m, head=_meta_csp(inline_scripts=True) + '<meta name="referrer" content="no-referrer">\n')


def write(folder: Path, view: PublicView, areas: gpd.GeoDataFrame, made: datetime,
          statement: Statement) -> dict[str, int]:
    """Write the site of `view` into the empty `folder`; returns how many findings and photos it holds."""
    shutil.copytree(VENDOR, folder / ASSET_BASE, ignore=shutil.ignore_patterns("README.md"))
    (folder / "assets" / "frame.js").write_text(FRAME_JS, encoding="utf-8")
    (folder / STATEMENT).write_text(statement_html(statement), encoding="utf-8")
    (folder / "photos").mkdir()
    photos = {p.name: p.data for f in view.findings for p in f.photos}
    for name, data in photos.items():
        (folder / "photos" / name).write_bytes(data)
    (folder / "map.html").write_text(map_html(view, areas), encoding="utf-8")
    (folder / "index.html").write_text(index_html(view, made), encoding="utf-8")
    (folder / MARKER).write_text("written by python -m dke_geo publish; replaced by the next export\n")
    return {"findings": len(view.findings), "photos": len(photos)}
