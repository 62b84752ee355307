"""The map for correcting an area's outline: every area in grey for orientation, the chosen one (if any) as
editable polygons in the drawing tool's layer, and Leaflet.draw's polygon, edit and delete tools (served from
static/vendor/leaflet.draw, with its texts in the chosen language). What the planner drew comes back through the
map component (`all_drawings`); checking and saving it is services/areas.py's work. No streamlit here.
"""
from __future__ import annotations

import folium
import geopandas as gpd
import shapely
from folium.plugins import Draw

from dke_geo import geo
from dke_geo.i18n import t
from dke_geo.maps.base import STREAMLIT_ASSETS, MapScript, add_areas, base_map, js_string, localise

EDIT_COLOUR = "#e4007c"
_DRAW_TEXTS = {  # L.drawLocal path -> strings key
    "draw.toolbar.actions.title": "outlines.draw.cancel_title", "draw.toolbar.actions.text": "outlines.draw.cancel",
    "draw.toolbar.finish.title": "outlines.draw.finish_title", "draw.toolbar.finish.text": "outlines.draw.finish",
    "draw.toolbar.undo.title": "outlines.draw.undo_title", "draw.toolbar.undo.text": "outlines.draw.undo",
    "draw.toolbar.buttons.polygon": "outlines.draw.polygon",
    "draw.handlers.polygon.tooltip.start": "outlines.draw.start",
    "draw.handlers.polygon.tooltip.cont": "outlines.draw.cont",
    "draw.handlers.polygon.tooltip.end": "outlines.draw.end",
    "draw.handlers.polyline.error": "outlines.draw.cross",
    "edit.toolbar.actions.save.title": "outlines.draw.save_title",
    "edit.toolbar.actions.save.text": "outlines.draw.save",
    "edit.toolbar.actions.cancel.title": "outlines.draw.cancel_edit_title",
    "edit.toolbar.actions.cancel.text": "outlines.draw.cancel",
    "edit.toolbar.actions.clearAll.title": "outlines.draw.clear_all_title",
    "edit.toolbar.actions.clearAll.text": "outlines.draw.clear_all",
    "edit.toolbar.buttons.edit": "outlines.draw.edit",
    "edit.toolbar.buttons.editDisabled": "outlines.draw.edit_disabled",
    "edit.toolbar.buttons.remove": "outlines.draw.remove",
    "edit.toolbar.buttons.removeDisabled": "outlines.draw.remove_disabled",
    "edit.handlers.edit.tooltip.text": "outlines.draw.edit_tip",
    "edit.handlers.edit.tooltip.subtext": "outlines.draw.edit_subtip",
    "edit.handlers.remove.tooltip.text": "outlines.draw.remove_tip",
}


def outline_map(areas: gpd.GeoDataFrame, area_id: str | None, lang: str = "da",
                asset_base: str = STREAMLIT_ASSETS) -> folium.Map:
    """The areas, with `area_id`'s outline (None: nothing yet, for a new area) ready to edit.

    >>> from dke_geo import geo
    >>> html = outline_map(geo.layer("areas"), "blokland").get_root().render()
    >>> "leaflet.draw/leaflet.draw.js" in html and "cdnjs" not in html
    True
    """
    chosen = areas[areas["id"] == area_id]
    bounds = chosen.to_crs(geo.METRIC).buffer(150).to_crs(geo.WGS84).total_bounds if len(chosen) else None
    m = base_map(lang, asset_base=asset_base, bounds=bounds)
    add_areas(m, areas[areas["id"] != area_id], lang, highlight=set())
    editable = folium.FeatureGroup(name=t("outlines.area", lang)).add_to(m)
    for polygon in (shapely.get_parts(chosen.geometry.iloc[0]) if len(chosen) else []):
        rings = [[(y, x) for x, y in ring.coords] for ring in (polygon.exterior, *polygon.interiors)]
        folium.Polygon(rings, color=EDIT_COLOUR, weight=3, fill=True, fill_opacity=0.15).add_to(editable)
    MapScript("".join(f"L.drawLocal.{path} = {js_string(t(key, lang))};" for path, key in _DRAW_TEXTS.items()),
              ).add_to(m)
    Draw(feature_group=editable, show_geometry_on_click=False, position="topleft",
         draw_options={"polygon": {"allowIntersection": False, "showArea": False,
                                   "shapeOptions": {"color": EDIT_COLOUR}},
                       "polyline": False, "rectangle": False, "circle": False, "marker": False,
                       "circlemarker": False},
         edit_options={"edit": True, "remove": True}).add_to(m)
    return localise(m, asset_base)
