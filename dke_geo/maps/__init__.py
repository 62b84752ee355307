"""Folium map builders (no streamlit): `base` (assets served locally, the municipality, areas) and one
module per kind of map (planner, field, public), each built on `base`."""
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
