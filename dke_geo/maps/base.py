"""The base of every map: folium served without third-party CDNs, the municipality and its areas.

folium points its scripts and styles at public CDNs; `localise` rewrites each to our own copy under
static/vendor/ (or drops what we never use, such as jQuery and Bootstrap) and refuses an unknown one,
so a new plugin cannot quietly load from a CDN. Only map tiles come from the configured tile server.
Every text placed in HTML is escaped here. No streamlit in this module.
"""
from __future__ import annotations

import html
import json
from pathlib import PurePosixPath

import folium
import geopandas as gpd
from branca.element import Element, MacroElement
from jinja2 import Template

from dke_geo import config, geo
from dke_geo.i18n import t

STREAMLIT_ASSETS = "/app/static/vendor"  # Streamlit's static serving of static/vendor/

# CDN file name -> our copy under static/vendor/ (None: not used by our maps, not loaded).
ASSETS: dict[str, str | None] = {
    "leaflet.js": "leaflet/leaflet.js",
    "leaflet.css": "leaflet/leaflet.css",
    "leaflet.markercluster.js": "leaflet.markercluster/leaflet.markercluster.js",
    "MarkerCluster.css": "leaflet.markercluster/MarkerCluster.css",
    "MarkerCluster.Default.css": "leaflet.markercluster/MarkerCluster.Default.css",
    "leaflet_heat.min.js": "leaflet.heat/leaflet-heat.js",
    "leaflet.draw.js": "leaflet.draw/leaflet.draw.js",
    "leaflet.draw.css": "leaflet.draw/leaflet.draw.css",
    "jquery-3.7.1.min.js": None,
    "bootstrap.bundle.min.js": None,
    "bootstrap.min.css": None,
    "bootstrap-glyphicons.css": None,
    "leaflet.awesome-markers.js": None,
    "leaflet.awesome-markers.css": None,
    "all.min.css": None,
    "leaflet.awesome.rotate.min.css": None,
}

CENTRE = (55.668, 12.352)


class UnknownAsset(ValueError):
    """A map element wants a script or style we do not serve ourselves."""


def _local(links: list[tuple[str, str]], base: str) -> list[tuple[str, str]]:
    out = []
    for name, url in links:
        if not url.startswith(("http://", "https://", "//")):
            out.append((name, url))
            continue
        file = PurePosixPath(url.split("?")[0]).name
        if file not in ASSETS:
            raise UnknownAsset(f"{url} is not served locally: add it to static/vendor and maps.ASSETS")
        if ASSETS[file]:
            out.append((name, f"{base}/{ASSETS[file]}"))
    return out


def localise(m: folium.Map, base: str = STREAMLIT_ASSETS) -> folium.Map:
    """Point every script and style of `m` and its children at our own copies under `base`."""
    stack = [m]
    while stack:
        element = stack.pop()
        for attr in ("default_js", "default_css"):
            if getattr(element, attr, None):
                setattr(element, attr, _local(getattr(element, attr), base))
        stack.extend(element._children.values())
    return m


class _Rendered(Element):
    """Output already rendered from a template: emitted as it is, never compiled as a template again."""

    def __init__(self, text: str):
        super().__init__()
        self.text = text

    def render(self, **kwargs) -> str:
        return self.text


def _render_once(self: MacroElement, **kwargs) -> None:
    """branca's MacroElement.render, except that each macro's output is kept as text.

    branca wraps a macro's output in `Element(output)`, which compiles it as a Jinja template and renders it a
    second time: a user's `{{ ... }}` in a popup, tooltip, label or GeoJSON property would then run on the
    server (template injection, up to running code). Every folium element renders through this method, so
    patching it here protects every map built by dke_geo.maps.
    """
    figure = self.get_root()
    for section in ("header", "html", "script"):
        macro = self._template.module.__dict__.get(section)
        if macro is not None:
            getattr(figure, section).add_child(_Rendered(macro(self, kwargs)), name=self.get_name())
    for element in self._children.values():
        element.render(**kwargs)


MacroElement.render = _render_once


class MapScript(MacroElement):
    """A few lines of JavaScript run after the map exists (`map` is the Leaflet map)."""

    def __init__(self, js: str):
        super().__init__()
        self._template = Template("{% macro script(this, kwargs) %}(function(map){" + js +
                                  "})({{ this._parent.get_name() }});{% endmacro %}")


def js_string(text: str) -> str:
    """A JavaScript string literal that cannot break out of its script: `<` and `>` are escaped, so neither
    `</script>` nor `<!--` can occur; other characters stay readable (UTF-8)."""
    return json.dumps(text, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")


class _Bound(MacroElement):
    """HTML bound to its parent layer as a tooltip or popup through a JSON string literal.

    folium's own Tooltip and Popup put the text inside a JavaScript template literal, where a `${...}`
    or a backtick in a user's text runs as code even after html.escape, and Popup needs jQuery, which we
    do not load. `content_html` must already be escaped HTML.
    """

    _template = Template("{% macro script(this, kwargs) %}{{ this._parent.get_name() }}.{{ this.method }}("
                         "{{ this.content }}, {{ this.options }});{% endmacro %}")

    def __init__(self, method: str, content_html: str, **options):
        super().__init__()
        self._name = method
        self.method = method
        self.content = js_string(content_html)
        self.options = json.dumps(options)


def safe_tooltip(content_html: str, **options) -> MacroElement:
    """A tooltip of escaped HTML; add it to a layer with `.add_to(layer)`."""
    return _Bound("bindTooltip", content_html, sticky=True, **options)


def safe_popup(content_html: str, **options) -> MacroElement:
    """A popup of escaped HTML (no jQuery needed); add it to a layer with `.add_to(layer)`."""
    return _Bound("bindPopup", content_html, **options)


def base_map(lang: str = "da", *, asset_base: str = STREAMLIT_ASSETS, bounds=None, tiles: bool = True,
             show_paths: bool = True, prefer_canvas: bool = False) -> folium.Map:
    """The municipality: tiles (if configured), boundary, paths and the geodata attribution.

    The map stays readable with no tiles at all: outlines and paths are drawn from data/geo/.
    `prefer_canvas` draws vectors on a canvas (fast for thousands of points; no SVG elements to inspect).
    """
    tile_url = config.get("DKE_GEO_TILE_URL") if tiles else ""
    m = folium.Map(location=CENTRE, zoom_start=14, tiles=None, control_scale=True,
                   prefer_canvas=prefer_canvas)
    if tile_url:
        folium.TileLayer(tile_url, attr=config.get("DKE_GEO_TILE_ATTRIBUTION"), name="Kort",
                         max_zoom=19, control=False).add_to(m)
    folium.GeoJson(geo.layer("boundary").__geo_interface__, name=t("map.layer_boundary", lang),
                   style_function=lambda _f: {"color": "#333", "weight": 2, "fill": False, "dashArray": "6 4"},
                   interactive=False).add_to(m)
    if show_paths:
        folium.GeoJson(geo.layer("paths")[["geometry"]].__geo_interface__, name=t("map.layer_paths", lang),
                       style_function=lambda _f: {"color": "#8a6d3b", "weight": 1.5, "opacity": 0.7},
                       interactive=False).add_to(m)
    MapScript("L.Icon.Default.imagePath=" + js_string(f"{asset_base}/leaflet/images/") + ";"
            "map.attributionControl.setPrefix(false);"
            "map.attributionControl.addAttribution(" + js_string(html.escape(t("map.attribution_geo", lang))) + ");"
            ).add_to(m)
    m.get_root().header.add_child(Element(
        "<style>.leaflet-control-attribution{font:11px/1.3 sans-serif!important;max-width:70%}"
        ".dke-area-label{pointer-events:none}</style>"))
    if bounds is not None:
        minx, miny, maxx, maxy = bounds
        m.fit_bounds([[miny, minx], [maxy, maxx]])
    else:
        minx, miny, maxx, maxy = geo.layer("boundary").total_bounds
        m.fit_bounds([[miny, minx], [maxy, maxx]])
    return m


def add_areas(m: folium.Map, areas: gpd.GeoDataFrame, lang: str = "da", counts: dict[str, int] | None = None,
              highlight: set[str] | None = None) -> folium.Map:
    """Area outlines with their names as labels and a tooltip (name, confidence, findings); an
    approximate or unverified outline is drawn dashed and says so."""
    geo.check_crs(areas, geo.WGS84, "areas")
    group = folium.FeatureGroup(name=t("map.layer_areas", lang))
    by_size = areas.assign(_m2=areas.to_crs(geo.METRIC).area).sort_values("_m2", ascending=False)
    for row in by_size.itertuples():  # larger areas first: their labels win where labels collide
        approximate = row.confidence not in geo.CERTAIN
        note = t("home.unverified" if row.confidence == "unverified" else "home.approximate", lang)
        lines = [f"<b>{html.escape(row.name)}</b>"]
        if approximate:
            lines.append(html.escape(note))
        if counts is not None:
            lines.append(f"{html.escape(t('col.observations', lang))}: {counts.get(row.id, 0)}")
        strong = highlight is None or row.id in highlight
        style = {"color": "#c0392b" if strong else "#7f8c8d", "weight": 3 if strong else 2,
                 "fillOpacity": 0.08 if strong else 0.03, "dashArray": "8 6" if approximate else None}
        outline = folium.GeoJson(row.geometry.__geo_interface__, style_function=lambda _f, s=style: s,
                                 class_name=f"dke-area dke-area-{html.escape(row.id)}").add_to(group)
        safe_tooltip("<br>".join(lines)).add_to(outline)
        point = row.geometry.representative_point()
        label = html.escape(row.name) + (" *" if approximate else "")
        folium.Marker([point.y, point.x], icon=folium.DivIcon(
            html=f'<div class="dke-area-label" style="display:inline-block;transform:translate(-50%,-50%);'
                 f'font:600 12px sans-serif;color:#222;text-shadow:0 0 3px #fff,0 0 3px #fff;white-space:nowrap">'
                 f'{label}</div>', icon_size=(1, 1)), interactive=False, keyboard=False).add_to(group)
    group.add_to(m)
    MapScript(_DECLUTTER).add_to(m)
    return m


_DECLUTTER = """
var runs = 0;
function declutter() {  // a label that would cover one already shown is hidden (its tooltip still names it)
    var shown = [];
    map.getContainer().querySelectorAll(".dke-area-label").forEach(function (label) {
        label.style.visibility = "visible";
        var r = label.getBoundingClientRect();
        var hit = shown.some(function (s) {
            return r.left < s.right && s.left < r.right && r.top < s.bottom && s.top < r.bottom; });
        if (hit) { label.style.visibility = "hidden"; } else { shown.push(r); }
    });
    map.getContainer().dataset.labelsPlaced = String(++runs);  // for the browser test: placed, and how often
}
var pending = false;
function schedule() {  // once per frame, after whatever moved, resized or added layers has been laid out
    if (!pending) { pending = true; requestAnimationFrame(function () { pending = false; declutter(); }); }
}
map.on("zoomend moveend resize layeradd overlayadd", schedule);
map.whenReady(schedule);
new ResizeObserver(schedule).observe(map.getContainer());  // the page sizes the map's frame after it is drawn
"""


def area_map(areas: gpd.GeoDataFrame, lang: str = "da", counts: dict[str, int] | None = None,
             asset_base: str = STREAMLIT_ASSETS) -> folium.Map:
    """The municipality with every housing area outlined and labelled (the entry page's map)."""
    m = base_map(lang, asset_base=asset_base, bounds=areas.total_bounds if len(areas) else None)
    add_areas(m, areas, lang, counts)
    folium.LayerControl(collapsed=True).add_to(m)
    return localise(m, asset_base)


def render(m: folium.Map) -> str:
    """The map as a standalone HTML page (assets must already be localised)."""
    return m.get_root().render()
