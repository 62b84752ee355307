"""The residents' map as one page: a legend, the published findings on a map (clusters at low zoom, a pin each when
zoomed in), and the same findings as a list beside it, linked both ways; over the housing areas shaded by how many
published findings they hold. The public page shows it in a frame, and the static site's map.html is this page.

Built only from a `PublicView`, so it cannot show anything the view does not hold. The findings travel as one JSON
block (texts, areas and months written once each and referred to by number, so ten thousand findings stay well
under 2 MB); public_map.js draws pins, clusters, popups and the list from it, putting every text in the page as text
(textContent), never as HTML. What the Python side writes as HTML is escaped here. No streamlit in this module.
"""
from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from pathlib import Path

import folium
import geopandas as gpd
from folium.elements import JSCSSMixin
from folium.plugins import MarkerCluster
from jinja2 import Template

from dke_geo.categories import categories
from dke_geo.i18n import t
from dke_geo.maps.base import STREAMLIT_ASSETS, add_areas, base_map, localise, render
from dke_geo.public import ANSWERABLE, STATUS_GROUPS, PublicPhoto, PublicView

DENSITY_COLOUR = "#2c7fb8"
_HERE = Path(__file__).parent
_JS = (_HERE / "public_map.js").read_text(encoding="utf-8")
_CSS = (_HERE / "public_map.css").read_text(encoding="utf-8")
_SORTS = ("area", "newest", "oldest", "category", "status")
_JS_STRINGS = {  # the texts public_map.js shows: key in data.strings -> strings-table key
    "mapLabel": "public.map", "cluster": "public.map.cluster", "status": "public.col.status",
    "showInList": "public.list.show_in_list", "showOnMap": "public.list.show_on_map", "answer": "answers.question",
    "closePopup": "public.map.close_popup", "zoomIn": "public.map.zoom_in", "zoomOut": "public.map.zoom_out",
    "layers": "public.map.layers", "shading": "public.density", "findings": "public.findings",
    "page": "public.list.page", "showing": "public.list.showing", "shownOnMap": "public.list.shown_on_map",
    "shownInList": "public.list.shown_in_list",
}


def json_block(value) -> str:
    """`value` as JSON for a `<script type="application/json">` element: `<`, `>` and `&` are escaped, so no text in
    it can end the element or start a comment."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def payload(view: PublicView, photo_src: Callable[[PublicPhoto], str], *, answers: bool, shading: str) -> dict:
    """What public_map.js draws: the findings as rows of numbers, with each text, area, month and status written once.

    A row is [key, lat, lon, category, group, area, month, text, text in the other language (0/1), status text,
    photo numbers], every number an index into the list of its kind.
    """
    lang = view.lang
    lists: dict[str, dict] = {"cats": {}, "areas": {}, "months": {}, "texts": {}, "statusTexts": {}, "photos": {}}

    def index(kind: str, key, value=None) -> int:
        return lists[kind].setdefault(key, (len(lists[kind]), key if value is None else value))[0]

    cats = categories()
    rows = []
    for f in view.findings:
        cat = cats[f.category]
        photos = [index("photos", p.name, [photo_src(p), t("public.photo_caption", lang, category=f.category_label,
                                                                area=f.area, month=f.month), p.width, p.height])
                  for p in f.photos]
        rows.append([f.key, f.lat, f.lon,
                     index("cats", cat.id, {"id": cat.id, "label": cat.label(lang), "icon": cat.icon,
                                            "colour": cat.colour}),
                     STATUS_GROUPS.index(f.status_group), index("areas", f.area), index("months", f.month_key,
                                                                                       [f.month_key, f.month]),
                     index("texts", f.text), int(f.text_lang != lang), index("statusTexts", f.status), photos])
    lons, lats = [f.lon for f in view.findings], [f.lat for f in view.findings]
    return {
        "lang": lang, "otherLang": "da" if lang != "da" else "en", "answer": answers, "shading": shading,
        "strings": {k: t(v, lang) for k, v in _JS_STRINGS.items()},
        "groups": [{"id": g, "label": t(f"public.group.{g}", lang), "order": i, "answerable": g in ANSWERABLE}
                   for i, g in enumerate(STATUS_GROUPS)],
        "bounds": [min(lons), min(lats), max(lons), max(lats)] if view.findings else None,
        "f": rows, **{kind: [v for _i, v in sorted(items.values(), key=lambda iv: iv[0])]
                      for kind, items in lists.items()},
    }


class _FindingsAndList(JSCSSMixin):
    """The legend, the map's slot, the list and the findings' data in the page, and public_map.js run on the map.
    Loads Leaflet.markercluster (our copy: maps.base.localise)."""

    default_js = [("leaflet.markercluster.js", MarkerCluster.default_js[0][1])]
    default_css = [("MarkerCluster.css", MarkerCluster.default_css[0][1])]
    _template = Template("""
{% macro header(this, kwargs) %}<style>{{ this.css }}</style>{% endmacro %}
{% macro html(this, kwargs) %}{{ this.skeleton }}
<script type="application/json" id="dke-data">{{ this.data }}</script>{% endmacro %}
{% macro script(this, kwargs) %}{{ this.js }}({{ this._parent.get_name() }});{% endmacro %}
""")

    def __init__(self, skeleton: str, data: dict):
        super().__init__()
        self.skeleton, self.data, self.css, self.js = skeleton, json_block(data), _CSS, _JS


def _skeleton(view: PublicView) -> str:
    """The page's parts as escaped HTML: skip link, legend, the map's slot with its text alternative, the list's
    heading, filters and pager (public_map.js fills the list)."""
    lang, e = view.lang, html.escape

    def tr(key: str, **values) -> str:
        return e(t(key, lang, **values))

    present = {f.category for f in view.findings}
    cats = [c for c in categories().values() if c.id in present] or list(categories().values())
    legend_cats = "".join(f'<li><span class="dke-swatch" aria-hidden="true" style="--dke-colour:{e(c.colour)}">'
                          f"{e(c.icon)}</span>{e(c.label(lang))}</li>" for c in cats)
    legend_status = "".join(f'<li><span class="dke-status-symbol dke-s-{g}" aria-hidden="true"></span>'
                            f"{tr(f'public.group.{g}')}</li>" for g in STATUS_GROUPS)
    areas = sorted({f.area for f in view.findings})
    area_options = "".join(f'<option value="{e(a)}">{e(a)}</option>' for a in areas)
    group_options = "".join(f'<option value="{g}">{tr(f"public.group.{g}")}</option>' for g in STATUS_GROUPS)
    sort_options = "".join(f'<option value="{s}">{tr(f"public.list.sort.{s}")}</option>' for s in _SORTS)
    empty = "" if view.findings else f"<p>{tr('public.empty')}</p>"
    return f"""<a class="dke-skip" href="#dke-list">{tr('public.list.skip')}</a>
<main class="dke-public" lang="{e(lang)}">
<h1 class="dke-sr">{tr('public.map.title')}</h1>
<section class="dke-legend" aria-labelledby="dke-legend-h"><details open>
<summary><h2 id="dke-legend-h">{tr('public.legend')}</h2></summary>
<h3>{tr('public.col.category')}</h3><ul>{legend_cats}</ul>
<h3>{tr('public.col.status')}</h3><ul>{legend_status}</ul>
</details></section>
<section class="dke-mapbox" aria-labelledby="dke-map-h">
<h2 id="dke-map-h" class="dke-sr">{tr('public.map')}</h2>
<p id="dke-map-desc" class="dke-sr">{tr('public.map.alternative', n=len(view.findings), areas=len(areas))}</p>
<div id="dke-map-slot"></div>
</section>
<section id="dke-list" aria-labelledby="dke-list-h" tabindex="-1">
<h2 id="dke-list-h">{tr('public.findings')} ({len(view.findings)})</h2>
{empty}<div class="dke-controls">
<div><label for="dke-area">{tr('public.col.area')}</label><select id="dke-area">
<option value="">{tr('public.list.all_areas')}</option>{area_options}</select></div>
<div><label for="dke-group">{tr('public.col.status')}</label><select id="dke-group">
<option value="">{tr('public.list.all_statuses')}</option>{group_options}</select></div>
<div><label for="dke-sort">{tr('public.list.sort')}</label><select id="dke-sort">{sort_options}</select></div>
</div>
<p id="dke-summary"></p>
<ol id="dke-items" class="dke-items"></ol>
<div class="dke-pager"><button type="button" id="dke-prev">{tr('public.list.previous')}</button>
<span id="dke-page"></span><button type="button" id="dke-next">{tr('public.list.next')}</button></div>
<p id="dke-live" class="dke-sr" aria-live="polite"></p>
<noscript><p>{tr('public.list.noscript')}</p></noscript>
</section>
</main>"""


_PAGE = Template("<!DOCTYPE html>\n<html lang=\"{{ this.lang }}\">\n<head>\n<title>{{ this.title }}</title>\n"
                 "{{ this.header.render(**kwargs) }}\n</head>\n<body>\n{{ this.html.render(**kwargs) }}\n</body>\n"
                 "<script>\n{{ this.script.render(**kwargs) }}\n</script>\n</html>\n")


def public_map(view: PublicView, areas: gpd.GeoDataFrame, photo_src: Callable[[PublicPhoto], str], *,
               asset_base: str = STREAMLIT_ASSETS, answers: bool = False) -> folium.Map:
    """The residents' map and list of `view` (areas: the outlines, EPSG:4326); `photo_src` gives each photo's URL;
    `answers` adds "Er det stadig et problem?" to the findings residents may answer about (the live page only)."""
    lang = view.lang
    m = base_map(lang, asset_base=asset_base)
    figure = m.get_root()
    figure._template = _PAGE
    figure.lang, figure.title = html.escape(lang), html.escape(t("public.map.title", lang))
    counts = {d.area_id: d.findings for d in view.density}
    most = max(counts.values(), default=0) or 1
    shading = folium.FeatureGroup(name=t("public.density", lang), control=False)
    for row in areas.itertuples():
        share = counts.get(row.id, 0) / most
        style = {"stroke": False, "fillColor": DENSITY_COLOUR, "fillOpacity": round(0.05 + 0.45 * share, 3)}
        folium.GeoJson(row.geometry.__geo_interface__, style_function=lambda _f, s=style: s,
                       interactive=False).add_to(shading)
    shading.add_to(m)
    add_areas(m, areas, lang, counts)
    _FindingsAndList(_skeleton(view), payload(view, photo_src, answers=answers, shading=shading.get_name())).add_to(m)
    return localise(m, asset_base)


_VIEWPORT = re.compile(r'<meta name="viewport"[^>]*>')


def document(m: folium.Map, head: str = "") -> str:
    """The page of a public map as HTML, with `head` (e.g. a Content-Security-Policy) first in its head. The
    reader may zoom the page (folium's viewport forbids it, which fails WCAG 1.4.4 on a phone)."""
    page = render(m)
    page = _VIEWPORT.sub('<meta name="viewport" content="width=device-width, initial-scale=1">', page, count=1)
    return page.replace("<head>\n", f"<head>\n{head}", 1)
