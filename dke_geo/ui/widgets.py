"""Streamlit pieces shared by the pages: language switch, the map component adapter (login: ui/auth.py)."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import folium
import streamlit as st
from streamlit_folium import st_folium

from dke_geo.categories import categories
from dke_geo.i18n import LANGUAGES
from dke_geo.ui import session
from dke_geo.ui.session import t


def language_switch() -> None:
    """DA | EN, at the top of every page (Danish by default)."""
    session.lang()
    st.segmented_control(t("app.language"), LANGUAGES, key="lang", format_func=str.upper,
                         label_visibility="collapsed", required=True)


@dataclass(frozen=True)
class MapResult:
    """What st_folium reports back, typed once here."""
    clicked: tuple[float, float] | None  # (lon, lat) of the last click
    zoom: int | None
    bounds: dict | None


def show_map(m: folium.Map, key: str, height: int = 520, returned: tuple[str, ...] = ("last_clicked",),
             layers: Sequence[folium.FeatureGroup] = ()) -> MapResult:
    """Draw a folium map (assets already localised) and return the user's last click, typed.

    `layers` change without reloading the map (the user's zoom and position stay): pass what changes between
    reruns (pins) here and keep `m` itself the same."""
    out = st_folium(m, key=key, height=height, use_container_width=True, returned_objects=list(returned),
                    feature_group_to_add=list(layers) or None) or {}
    click = out.get("last_clicked")
    return MapResult(clicked=(click["lng"], click["lat"]) if click else None, zoom=out.get("zoom"),
                     bounds=out.get("bounds"))


def category_buttons(key: str) -> str | None:
    """The finding categories as large buttons with icon and label, two to a row; the chosen one is
    highlighted and stays chosen (in session state under `key`) until another is tapped. Returns its id."""
    cats = list(categories().values())
    for pair in (cats[i:i + 2] for i in range(0, len(cats), 2)):
        for col, cat in zip(st.columns(2), pair, strict=False):
            col.button(cat.label(session.lang()), icon=cat.icon, key=f"{key}_{cat.id}", width="stretch", wrap=True,
                       type="primary" if st.session_state.get(key) == cat.id else "secondary",
                       on_click=_choose, args=(key, cat.id))
    return st.session_state.get(key)


def _choose(key: str, value) -> None:
    st.session_state[key] = value


def demo_badge() -> None:
    """The DEMO mark on made-up walks and findings."""
    st.badge(t("app.demo_badge"), icon="🧪", color="orange")
