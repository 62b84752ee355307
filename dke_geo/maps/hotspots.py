"""The Hotspots page's map (the planners' map): findings as category pins, report density, grid counts and significant
hotspots, each a layer the planner can switch, with a legend that says what the colours mean.

Built for scale: the map never ships one folium element per finding. Up to `PIN_LIMIT` findings in
the current filter are pins, sent as one compact data array that the browser turns into clustered
markers (FastMarkerCluster); above it the findings layer shows aggregated cells instead. Heatmaps
ship a bounded number of merged points (density.heat_points), grids one polygon per occupied cell.
Every user text is escaped here; every script and style is served by us (maps.localise).
"""
from __future__ import annotations

import html
from datetime import datetime

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from branca.element import MacroElement
from folium.plugins import FastMarkerCluster, HeatMap
from jinja2 import Template
from jinja2.utils import htmlsafe_json_dumps

from dke_geo import density, geo, getis_ord
from dke_geo.categories import categories
from dke_geo.density import CellCounts, Grid
from dke_geo.i18n import t
from dke_geo.maps.base import STREAMLIT_ASSETS, MapScript, add_areas, base_map, localise
from dke_geo.model import TZ

PIN_LIMIT = 2000
"""Above this many findings in the filter, pins give way to aggregated cells (see the module doc)."""
AGGREGATE_CELLS = 1500
"""At most this many aggregated cells stand in for the pins."""
HEAT_POINTS = 8000
"""At most this many merged points per heatmap: enough for a smooth surface over the municipality."""

GRID_COLOURS = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")  # ColorBrewer YlOrRd
HOTSPOT_COLOURS = {3: "#d62f27", 2: "#ed7551", 1: "#fab984", -1: "#c0ccbe", -2: "#849eba", -3: "#4575b5"}
REPORT_GRADIENT = {0.2: "#f1eef6", 0.5: "#bdc9e1", 0.75: "#74a9cf", 1.0: "#045a8d"}

_PIN_JS = """(function (styles) { return function (row) {
    var s = styles[row[2]];
    var icon = L.divIcon({className: "dke-pin", iconSize: [28, 28], iconAnchor: [14, 14], popupAnchor: [0, -12],
        html: '<span style="display:flex;align-items:center;justify-content:center;width:24px;height:24px;' +
              'border-radius:50%%;border:2px solid #fff;box-shadow:0 0 3px rgba(0,0,0,.6);font-size:14px;' +
              'background:' + s.colour + '">' + s.icon + '</span>'});
    return L.marker(new L.LatLng(row[0], row[1]), {icon: icon, title: s.label, alt: s.label})
        .bindPopup(row[3], {maxWidth: 300});
}; })(%s)"""


def hotspots_map(findings: pd.DataFrame, reports: pd.DataFrame, areas: gpd.GeoDataFrame, *,
                grid: Grid = Grid(), selected_areas: tuple[str, ...] = (), lang: str = "da",
                pin_limit: int = PIN_LIMIT, asset_base: str = STREAMLIT_ASSETS, tiles: bool = True) -> folium.Map:
    """The planner's map of the (already filtered) `findings` and incident `reports`.

    `findings` needs lon, lat, x, y (EPSG:25832 metres), category, severity, area_id; for pins (at most
    `pin_limit` rows) also note, status, observed_at, walk_title, is_demo and thumb (a data: URI or "").
    `reports` needs x, y. Hotspots are computed over the cells of `selected_areas` (if none: of the areas that
    hold findings).
    """
    study = areas[areas["id"].isin(set(selected_areas) or set(findings["area_id"].dropna().unique()))]
    m = base_map(lang, asset_base=asset_base, tiles=tiles, prefer_canvas=True, bounds=_extent(findings, study))
    m.options["max_zoom"] = 19  # with no tile layer Leaflet has none, and MarkerCluster refuses to start
    counts = findings["area_id"].value_counts().to_dict()
    add_areas(m, areas, lang, counts=counts, highlight=set(selected_areas) or None)
    x, y = findings["x"].to_numpy(dtype=float), findings["y"].to_numpy(dtype=float)
    pins = len(findings) <= pin_limit
    if pins:
        _pins(findings, lang).add_to(m)
    else:
        _aggregated(findings, x, y, lang).add_to(m)
    _heat(density.heat_points(x, y, findings["severity"], max_points=HEAT_POINTS),
          t("hotspots.layer_heat", lang), show=True).add_to(m)
    cells = density.count(x, y, grid)
    breaks = _breaks(cells.count)
    _cells_layer(cells, t("hotspots.layer_grid", lang, size=_metres(grid.size)),
                 [GRID_COLOURS[c] for c in np.searchsorted(breaks, cells.count, side="right") - 1],
                 [t("hotspots.cell_count", lang, n=int(n)) for n in cells.count]).add_to(m)
    _heat(density.heat_points(reports["x"], reports["y"], max_points=HEAT_POINTS),
          t("hotspots.layer_reports", lang, n=len(reports)), show=False, gradient=REPORT_GRADIENT).add_to(m)
    result = _hotspots(study, grid, cells)
    marked = result.cells()
    levels = result.level[result.level != 0]
    tips = [t("hotspots.cell_hot" if v > 0 else "hotspots.cell_cold", lang, n=int(n),
              confidence=getis_ord.CONFIDENCE[abs(v)]) for v, n in zip(levels, marked.count, strict=True)]
    _cells_layer(marked, t("hotspots.layer_gistar", lang), [HOTSPOT_COLOURS[v] for v in levels], tips,
                 show=False).add_to(m)
    _Legend(_legend_html(lang, breaks, grid, pins, len(findings), pin_limit, len(result.i),
                         ", ".join(study["name"]) or "–")).add_to(m)
    control = folium.LayerControl(collapsed=False).add_to(m)
    MapScript(_FOLD_WHEN_NARROW.replace("CONTROL", control.get_name())).add_to(m)
    return localise(m, asset_base)


NARROW_PX = 800
"""Below this map width (a tablet in portrait) the layer list and the legend start folded."""
_FOLD_WHEN_NARROW = f"""
if (map.getSize().x < {NARROW_PX}) {{  // open, they would cover half of a narrow map: a tap on their button opens them
    CONTROL.collapse();
    map.on("click", function () {{ CONTROL.collapse(); }});
    var legend = map.getContainer().querySelector(".dke-legend details");
    if (legend) {{ legend.open = false; }}
}}
"""


def _extent(findings: pd.DataFrame, study: gpd.GeoDataFrame) -> tuple[float, float, float, float] | None:
    """Where to look first: the findings in the filter and the areas they are compared over (None: the
    whole municipality)."""
    boxes = [study.total_bounds] if len(study) else []
    if len(findings):
        boxes.append((findings["lon"].min(), findings["lat"].min(), findings["lon"].max(), findings["lat"].max()))
    if not boxes:
        return None
    box = np.array(boxes, dtype=float)
    return box[:, 0].min(), box[:, 1].min(), box[:, 2].max(), box[:, 3].max()


def _metres(size: float) -> str:
    return f"{size:g}"


def _heat(points: np.ndarray, name: str, show: bool, gradient: dict | None = None) -> HeatMap:
    """A heatmap of merged points [lat, lon, weight]. leaflet.heat saturates at `max`: a high quantile
    of the merged weights keeps the colour ramp useful where points pile up."""
    top = float(max(1.0, np.quantile(points[:, 2], 0.95))) if len(points) else 1.0
    return HeatMap(points.round(6).tolist(), name=name, radius=18, blur=14, min_opacity=0.3, max=top,
                   gradient=gradient, show=show)


def _breaks(values: np.ndarray) -> np.ndarray:
    """Lower bounds of up to five colour classes (quantiles, whole numbers)."""
    if not len(values):
        return np.array([1.0])
    return np.unique(np.ceil(np.quantile(values, [0, 0.5, 0.75, 0.9, 0.97])))


def _cells_layer(cells: CellCounts, name: str, colours: list[str], tooltips: list[str],
                 show: bool = False) -> folium.GeoJson:
    """Cells as one GeoJSON layer, coloured per cell, with an (escaped) tooltip."""
    fc = density.cells_geojson(cells, {"colour": np.array(colours, dtype=object),
                                       "tip": np.array([html.escape(s) for s in tooltips], dtype=object)})
    return _layer(fc, name=name, show=show,
                  style_function=lambda f: {"fillColor": f["properties"]["colour"], "fillOpacity": 0.6,
                                            "color": "#555", "weight": 0.5},
                  highlight_function=lambda _f: {"weight": 2, "color": "#000"})


def _layer(fc: dict, **kwargs) -> folium.GeoJson:
    """A GeoJSON layer with the tooltip in each feature's `tip` (escaped HTML). An empty layer stays in
    the layer control (the planner sees it exists, and that it is empty) without styles or tooltip,
    which folium cannot make for no features."""
    if not fc["features"]:
        return folium.GeoJson(fc, name=kwargs["name"], show=kwargs.get("show", True))
    return folium.GeoJson(fc, zoom_on_click=False, tooltip=folium.GeoJsonTooltip(["tip"], labels=False), **kwargs)


def _hotspots(study: gpd.GeoDataFrame, grid: Grid, cells: CellCounts):
    """Gi* over the cells of the study areas. Only areas that were walked (or that the planner chose)
    are compared: an area nobody walked has no findings, and would show as a cold spot that means
    nothing."""
    region = study.to_crs(geo.METRIC).geometry.union_all() if len(study) else None
    lattice = grid.lattice(region) if region is not None else (np.zeros(0, np.int64), np.zeros(0, np.int64))
    return getis_ord.gi_star(cells, lattice)


def _pins(findings: pd.DataFrame, lang: str) -> FastMarkerCluster:
    """One clustered pin per finding: emoji and colour of its category, an escaped popup."""
    cats = list(categories().values())
    index = {c.id: n for n, c in enumerate(cats)}
    styles = [{"colour": c.colour, "icon": html.escape(c.icon), "label": c.label(lang)} for c in cats]
    data = [[lat, lon, index[cat], popup] for lat, lon, cat, popup in
            zip(findings["lat"], findings["lon"], findings["category"], _popups(findings, lang), strict=True)]
    return FastMarkerCluster(data, callback=_PIN_JS % htmlsafe_json_dumps(styles),
                             name=t("hotspots.layer_pins", lang, n=len(findings)),
                             options={"maxClusterRadius": 40, "spiderfyOnMaxZoom": True})


def _popups(findings: pd.DataFrame, lang: str) -> list[str]:
    """The popup of each finding: category, severity, note, status, date, walk, thumbnail; escaped."""
    cats = categories()
    out = []
    for row in findings.itertuples(index=False):
        cat = cats[row.category]
        when = row.observed_at.astimezone(TZ) if isinstance(row.observed_at, datetime) else row.observed_at
        lines = [f'<b>{html.escape(cat.icon)} {html.escape(cat.label(lang))}</b>'
                 + (f' <span style="background:#555;color:#fff;padding:0 4px;border-radius:3px">'
                    f'{html.escape(t("app.demo_badge", lang))}</span>' if row.is_demo else ""),
                 html.escape(f'{t("field.severity", lang)}: {t(f"severity.{int(row.severity)}", lang)}'),
                 html.escape(f'{t("hotspots.status", lang)}: {t(f"fixes.group.{row.status}", lang)}'),
                 html.escape(f'{t("hotspots.date", lang)}: {when:%d.%m.%Y %H:%M}'),
                 html.escape(f'{t("hotspots.walk", lang)}: {row.walk_title or "–"}')]
        if row.note:
            lines.append(f'<i>{html.escape(row.note)}</i>')
        if row.thumb and str(row.thumb).startswith("data:image/jpeg;base64,"):
            lines.append(f'<img src="{html.escape(row.thumb)}" alt="" style="max-width:240px;max-height:180px">')
        out.append("<br>".join(lines))
    return out


def _aggregated(findings: pd.DataFrame, x: np.ndarray, y: np.ndarray, lang: str) -> folium.GeoJson:
    """Above the pin limit: one circle per cell (cells grown until at most AGGREGATE_CELLS), at the
    findings' mean position, sized by their number, coloured by the most common category (numpy only)."""
    _size, cell, n_cells = density.merged_cells(x, y, 50.0, AGGREGATE_CELLS)
    n = np.bincount(cell, minlength=n_cells)
    lon, lat = geo.to_wgs84(np.bincount(cell, x, n_cells) / n, np.bincount(cell, y, n_cells) / n)
    cats = list(categories().values())
    code = pc.index_in(pa.array(findings["category"]), value_set=pa.array([c.id for c in cats]))
    code = code.to_numpy(zero_copy_only=False).astype(np.int64)  # every stored category is a known one
    per_category = np.bincount(cell * len(cats) + code, minlength=n_cells * len(cats)).reshape(n_cells, len(cats))
    top = per_category.argmax(axis=1)
    radius = np.clip(np.round(4 + 3 * np.log2(n)), 4, 30)
    features = [{"type": "Feature", "id": k, "geometry": {"type": "Point", "coordinates": [round(lo, 6), round(la, 6)]},
                 "properties": {"colour": cats[c].colour, "r": float(r),
                                "tip": html.escape(t("hotspots.aggregate_tip", lang, n=int(m),
                                                     category=cats[c].label(lang)))}}
                for k, (lo, la, c, m, r) in enumerate(zip(lon, lat, top, n, radius, strict=True))]
    return _layer({"type": "FeatureCollection", "features": features},
                  name=t("hotspots.layer_aggregated", lang, n=len(findings)),
                  marker=folium.CircleMarker(radius=6, weight=1, color="#fff", fill_opacity=0.85),
                  style_function=lambda f: {"fillColor": f["properties"]["colour"], "radius": f["properties"]["r"]})


class _Legend(MacroElement):
    """A Leaflet control in the lower left holding the legend (already escaped HTML)."""

    def __init__(self, content: str):
        super().__init__()
        self._name = "Legend"
        self.content = content
        self._template = Template("""{% macro script(this, kwargs) %}
            (function () {
                var legend = L.control({position: "bottomleft"});
                legend.onAdd = function () {
                    var div = L.DomUtil.create("div", "dke-legend leaflet-control-layers");
                    div.innerHTML = {{ this.content|tojson }};
                    L.DomEvent.disableClickPropagation(div);
                    L.DomEvent.disableScrollPropagation(div);
                    return div;
                };
                legend.addTo({{ this._parent.get_name() }});
            })();
        {% endmacro %}""")


def _swatch(colour: str, text: str, round_: bool = False) -> str:
    radius = "50%" if round_ else "2px"
    return (f'<div><span style="display:inline-block;width:14px;height:14px;margin-right:6px;vertical-align:middle;'
            f'background:{colour};border:1px solid #777;border-radius:{radius}"></span>{html.escape(text)}</div>')


def _legend_html(lang: str, breaks: np.ndarray, grid: Grid, pins: bool, n: int, pin_limit: int,
                 cells: int, study: str) -> str:
    """The legend: categories, grid classes, hotspot classes and what "significant" means here."""
    cats = "".join(f'<div><span style="display:inline-block;width:20px;text-align:center;margin-right:4px;'
                   f'border-radius:50%;background:{c.colour}">{html.escape(c.icon)}</span>'
                   f'{html.escape(c.label(lang))}</div>' for c in categories().values())
    uppers = [*(breaks[1:] - 1), None]
    grid_rows = "".join(_swatch(GRID_COLOURS[k], f"{lo:g}+" if hi is None else
                                (f"{lo:g}" if hi == lo else f"{lo:g}–{hi:g}"))
                        for k, (lo, hi) in enumerate(zip(breaks, uppers, strict=True)))
    hot_rows = "".join(_swatch(HOTSPOT_COLOURS[v], t("hotspots.legend_hot" if v > 0 else "hotspots.legend_cold",
                                                      lang, confidence=getis_ord.CONFIDENCE[abs(v)]))
                       for v in (3, 2, 1, -1, -2, -3))
    aggregated = t("hotspots.legend_aggregated", lang, n=n, limit=pin_limit)
    note = "" if pins else f'<p style="margin:4px 0">{html.escape(aggregated)}</p>'
    head = 'style="margin:6px 0 2px;font-weight:600"'
    significant = t("hotspots.legend_significant", lang, cells=cells, areas=study)
    return (f'<details open style="width:250px;max-height:45vh;overflow:auto;padding:4px 8px;font:11px/1.3 '
            f'sans-serif;background:#fff"><summary style="font-weight:700;cursor:pointer">'
            f'{html.escape(t("hotspots.legend", lang))}</summary>'
            f'<div {head}>{html.escape(t("hotspots.legend_categories", lang))}</div>{cats}{note}'
            f'<div {head}>{html.escape(t("hotspots.layer_grid", lang, size=_metres(grid.size)))}</div>{grid_rows}'
            f'<div {head}>{html.escape(t("hotspots.layer_gistar", lang))}</div>{hot_rows}'
            f'<p style="margin:4px 0">{html.escape(significant)}</p>'
            f'<p style="margin:4px 0">{html.escape(t("hotspots.legend_heat", lang))}</p></details>')
