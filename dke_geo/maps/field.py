"""The walk map for recording in the field: the walk's areas, its findings as pins coloured by category, and
the point chosen for the next finding as a distinct pending pin.

The base (`walk_map`) depends only on the walk's areas and the language, so the map component keeps the
user's zoom and position while pins change: the pins are separate layers (`findings_layer`, `pending_layer`)
that streamlit-folium swaps in place. No streamlit here; every text placed in HTML is escaped.
"""
from __future__ import annotations

import html
from collections.abc import Sequence

import folium
import geopandas as gpd

from dke_geo import geo
from dke_geo.categories import categories
from dke_geo.i18n import t
from dke_geo.maps.base import STREAMLIT_ASSETS, add_areas, base_map, localise, safe_tooltip
from dke_geo.model import Observation

PIN_SIZE = {1: 24, 2: 30, 3: 36}  # px by severity: a serious finding stands out
PENDING_COLOUR = "#e4007c"
_PENDING_PIN = (f'<svg xmlns="http://www.w3.org/2000/svg" width="36" height="48" viewBox="0 0 36 48">'
                f'<path d="M18 1.5C9 1.5 1.5 9 1.5 18c0 12 16.5 28.5 16.5 28.5S34.5 30 34.5 18C34.5 9 27 1.5 18 1.5z" '
                f'fill="{PENDING_COLOUR}" stroke="#fff" stroke-width="3"/><circle cx="18" cy="18" r="6" fill="#fff"/>'
                f'</svg>')


def walk_map(areas: gpd.GeoDataFrame, area_ids: Sequence[str], lang: str = "da",
             asset_base: str = STREAMLIT_ASSETS) -> folium.Map:
    """The municipality zoomed to the walk's areas (highlighted, the others in grey), assets served locally.

    >>> from dke_geo import geo
    >>> m = walk_map(geo.layer("areas"), ["blokland"])
    >>> "dke-area-blokland" in m.get_root().render()
    True
    """
    chosen = areas[areas["id"].isin(list(area_ids))]
    bounds = chosen.to_crs(geo.METRIC).buffer(60).to_crs(geo.WGS84).total_bounds if len(chosen) else None
    m = base_map(lang, asset_base=asset_base, bounds=bounds)
    add_areas(m, areas, lang, highlight=set(area_ids) or None)
    return localise(m, asset_base)


def findings_layer(findings: Sequence[Observation], lang: str = "da") -> folium.FeatureGroup:
    """The findings as round pins in their category's colour and icon, sized by severity, each with a
    tooltip (category, severity, time, the start of the note, DEMO for demo data). A tap on a pin also
    reaches the map, so a new finding can be placed right next to an earlier one."""
    group = folium.FeatureGroup(name=t("record.map_findings", lang))
    known = categories()
    for obs in findings:
        cat = known[obs.category]
        size = PIN_SIZE[obs.severity]
        pin = (f'<div class="dke-pin" data-obs="{obs.id}" style="width:{size}px;height:{size}px;'
               f'line-height:{size - 4}px;font-size:{size // 2}px;text-align:center;border-radius:50%;'
               f'background:{cat.colour};border:2px solid #fff;box-shadow:0 0 3px rgba(0,0,0,.6)">{cat.icon}</div>')
        lines = [f"<b>{html.escape(cat.icon + ' ' + cat.label(lang))}</b>",
                 html.escape(f"{t(f'severity.{obs.severity}', lang)} · {obs.observed_at:%d.%m.%Y %H:%M}")]
        if obs.internal_note:
            note = obs.internal_note if len(obs.internal_note) <= 80 else obs.internal_note[:79] + "…"
            lines.append(html.escape(note))
        if obs.is_demo:
            lines.append(f"<b>{html.escape(t('app.demo_badge', lang))}</b>")
        marker = folium.Marker([obs.lat, obs.lon], bubbling_mouse_events=True, icon=folium.DivIcon(
            html=pin, icon_size=(size, size), icon_anchor=(size // 2, size // 2), class_name="dke-pin-icon"))
        safe_tooltip("<br>".join(lines)).add_to(marker.add_to(group))
    return localise(group)


def pending_layer(point: tuple[float, float] | None, accuracy_m: float | None = None,
                  lang: str = "da") -> folium.FeatureGroup:
    """The point (lon, lat) chosen for the finding being recorded, not yet saved: a teardrop pin unlike the
    round saved ones, with a circle showing the GPS accuracy. It lets taps through, so a tap next to it moves it."""
    group = folium.FeatureGroup(name=t("record.map_pending", lang))
    if point is None:
        return group  # an empty layer, so the map's list of layers stays the same
    lon, lat = point
    if accuracy_m:
        folium.Circle([lat, lon], radius=accuracy_m, color=PENDING_COLOUR, weight=1, fill=True, fill_opacity=0.12,
                      interactive=False).add_to(group)
    folium.Marker([lat, lon], interactive=False,
                  icon=folium.DivIcon(html=_PENDING_PIN, icon_size=(36, 48), icon_anchor=(18, 47),
                                      class_name="dke-pending")).add_to(group)
    return localise(group)
