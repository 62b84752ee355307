"""What the Hotspots page draws for one filter: the map, the charts and the area table, all from the same
selected rows (services/hotspots.py), kept in the app context until the data or the filter changes, so a rerun
with the same filter costs a lookup. The map is kept as the HTML page it renders to, made once per view: a folium
map object cannot be drawn twice (streamlit-folium renames its elements in place, so a second drawing of the same
object refers to layers that no longer exist and the map comes up empty). No streamlit here (tests and benchmarks
build it directly)."""
from __future__ import annotations

from dataclasses import dataclass

import altair as alt
import pandas as pd

from dke_geo import charts
from dke_geo.context import AppContext
from dke_geo.density import Grid
from dke_geo.filters import Filter
from dke_geo.maps import STREAMLIT_ASSETS, render
from dke_geo.maps.hotspots import PIN_LIMIT, hotspots_map
from dke_geo.roles import Actor
from dke_geo.services import hotspots
from dke_geo.services.hotspots import Selection


@dataclass(frozen=True)
class HotspotsView:
    """The map (a standalone HTML page), charts and table for one filter, all from the same filtered rows."""
    map_html: str
    findings: int
    reports: int
    by_category_area: alt.Chart
    open_resolved: alt.Chart
    days_to_resolution: alt.Chart | None
    areas: pd.DataFrame


def view(ctx: AppContext, actor: Actor, filt: Filter, lang: str = "da", grid: Grid = Grid(), *,
         pin_limit: int = PIN_LIMIT, asset_base: str = STREAMLIT_ASSETS, tiles: bool = True) -> HotspotsView:
    """The page's view of `filt` (the role is checked by the service), built once per data version and filter."""
    selection = hotspots.select(ctx, actor, filt, pin_limit)
    return ctx.cached("hotspots.view", selection.version, (selection.key, lang, grid, asset_base, tiles),
                      lambda: build(selection, lang, grid, asset_base=asset_base, tiles=tiles))


def build(selection: Selection, lang: str = "da", grid: Grid = Grid(), *, asset_base: str = STREAMLIT_ASSETS,
          tiles: bool = True) -> HotspotsView:
    """Draw the map and the charts of `selection`."""
    findings, reports, names = selection.findings, selection.reports, selection.area_names
    return HotspotsView(
        map_html=render(hotspots_map(findings, reports, selection.areas, grid=grid,
                                     selected_areas=selection.filter.areas, lang=lang, pin_limit=selection.pin_limit,
                                     asset_base=asset_base, tiles=tiles)),
        findings=len(findings), reports=len(reports),
        by_category_area=charts.by_category_area(findings, names, lang),
        open_resolved=charts.open_resolved(findings, lang),
        days_to_resolution=charts.days_to_resolution(findings, lang),
        areas=charts.area_table(findings, reports, names, lang))
