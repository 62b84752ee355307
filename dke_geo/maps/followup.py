"""The follow-up layer of the field map: done fixes waiting for a check (a marker with a tooltip) and open
findings from earlier walks (small rings that let taps through, so placing a new finding still works).
No streamlit here; every text placed in HTML is escaped."""
from __future__ import annotations

import html

import folium
import pandas as pd

from dke_geo import organisations
from dke_geo.i18n import t
from dke_geo.maps.base import safe_tooltip

FIX_COLOUR = "#1b7f3b"
OPEN_COLOUR = "#e67e22"
_FIX_PIN = (f'<div class="dke-followup-fix" style="width:30px;height:30px;line-height:26px;font-size:16px;'
            f'text-align:center;border-radius:6px;background:#fff;border:3px solid {FIX_COLOUR};'
            f'box-shadow:0 0 3px rgba(0,0,0,.6)">🛠️</div>')


def follow_up_layer(fixes: pd.DataFrame, findings: pd.DataFrame, lang: str = "da") -> folium.FeatureGroup:
    """One layer with `fixes` (id, title, organisation, lon, lat) and `findings` (lon, lat;
    rings without text: the panel beside the map lists them), the
    frames of services.fixes.FollowUpItems.

    >>> import pandas as pd
    >>> layer = follow_up_layer(pd.DataFrame([{"id": "f1", "title": "<b>Lamper</b>", "organisation": "dke",
    ...                                        "lon": 12.357, "lat": 55.660}]), pd.DataFrame())
    >>> html_ = folium.Map().add_child(layer).get_root().render()
    >>> "&lt;b&gt;Lamper" in html_ and "<b>Lamper" not in html_
    True
    """
    group = folium.FeatureGroup(name=t("fixes.map.layer", lang))
    for row in findings.itertuples():
        folium.CircleMarker([row.lat, row.lon], radius=7, color=OPEN_COLOUR, weight=3, fill=True, fill_opacity=0.15,
                            interactive=False, class_name="dke-followup-finding").add_to(group)
    for row in fixes.itertuples():
        marker = folium.Marker([row.lat, row.lon], icon=folium.DivIcon(html=_FIX_PIN, icon_size=(30, 30),
                                                                       icon_anchor=(15, 15)))
        lines = [f"<b>{html.escape(row.title)}</b>", html.escape(t("fixes.map.done", lang))]
        if row.organisation:
            lines.append(html.escape(organisations.label(row.organisation, lang)))
        safe_tooltip("<br>".join(lines)).add_to(marker.add_to(group))
    return group
