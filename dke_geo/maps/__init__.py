"""Folium map builders (no streamlit, no database): they take frames or plain data and return maps. `base`
(assets served locally, the municipality, areas) and one module per kind of map (field, followup, hotspots,
public), each built on `base`."""
from dke_geo.maps.base import (
    ASSETS,
    CENTRE,
    STREAMLIT_ASSETS,
    UnknownAsset,
    add_areas,
    area_map,
    base_map,
    js_string,
    localise,
    render,
)

__all__ = ["ASSETS", "CENTRE", "STREAMLIT_ASSETS", "UnknownAsset", "add_areas", "area_map", "base_map", "js_string",
           "localise", "render"]
