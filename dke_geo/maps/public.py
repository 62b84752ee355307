"""The residents' map: published findings coloured by category, each with a popup, over the housing areas
shaded by how many published findings they hold.

Built only from a `PublicView`, so it cannot show anything the view does not hold. Every text is escaped
and bound through `safe_tooltip` / `safe_popup`. No streamlit in this module.
"""
from __future__ import annotations

import html
from collections.abc import Callable

import folium
import geopandas as gpd

from dke_geo.i18n import t
from dke_geo.maps.base import STREAMLIT_ASSETS, add_areas, base_map, localise, safe_popup, safe_tooltip
from dke_geo.public import PublicFinding, PublicPhoto, PublicView

DENSITY_COLOUR = "#2c7fb8"


def popup_html(finding: PublicFinding, lang: str, photo_src: Callable[[PublicPhoto], str]) -> str:
    """The popup of one finding as escaped HTML: category, area, month, public text, status, photos."""
    e = html.escape
    parts = [f'<div class="dke-public-popup"><b>{e(finding.icon)} {e(finding.category_label)}</b>',
             f"<div>{e(finding.area)}, {e(finding.month)}</div>",
             f'<p class="dke-public-text">{e(finding.text)}</p>',
             f"<div><i>{e(t('public.col.status', lang))}:</i> {e(finding.status)}</div>"]
    caption = e(t("public.photo_caption", lang, category=finding.category_label, area=finding.area,
                  month=finding.month))
    parts += [f'<img class="dke-public-photo" src="{e(photo_src(p))}" alt="{caption}" '
              f'style="max-width:100%;margin-top:6px">' for p in finding.photos]
    return "".join(parts) + "</div>"


def public_map(view: PublicView, areas: gpd.GeoDataFrame, photo_src: Callable[[PublicPhoto], str], *,
               asset_base: str = STREAMLIT_ASSETS) -> folium.Map:
    """The public map of `view` (areas: the outlines, EPSG:4326); `photo_src` gives each photo's URL."""
    lang = view.lang
    m = base_map(lang, asset_base=asset_base)
    counts = {d.area_id: d.findings for d in view.density}
    most = max(counts.values(), default=0) or 1
    shading = folium.FeatureGroup(name=t("public.density", lang))
    for row in areas.itertuples():
        share = counts.get(row.id, 0) / most
        style = {"stroke": False, "fillColor": DENSITY_COLOUR, "fillOpacity": round(0.05 + 0.45 * share, 3)}
        folium.GeoJson(row.geometry.__geo_interface__, style_function=lambda _f, s=style: s,
                       interactive=False).add_to(shading)
    shading.add_to(m)
    add_areas(m, areas, lang, counts)
    group = folium.FeatureGroup(name=t("public.findings", lang))
    for finding in view.findings:
        marker = folium.CircleMarker([finding.lat, finding.lon], radius=8, color="#222", weight=1,
                                     fill=True, fill_color=finding.colour, fill_opacity=0.9)
        safe_tooltip(f"{html.escape(finding.icon)} {html.escape(finding.category_label)}").add_to(marker)
        safe_popup(popup_html(finding, lang, photo_src), maxWidth=300).add_to(marker)
        marker.add_to(group)
    group.add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)
    return localise(m, asset_base)
