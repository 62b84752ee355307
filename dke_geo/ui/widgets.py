"""Streamlit pieces shared by the pages: language switch, login box, the map component adapter."""
from __future__ import annotations

from dataclasses import dataclass

import folium
import streamlit as st
from streamlit_folium import st_folium

from dke_geo.errors import DkeError
from dke_geo.i18n import LANGUAGES
from dke_geo.services import users as user_service
from dke_geo.ui import session
from dke_geo.ui.session import t


def language_switch() -> None:
    """DA | EN, at the top of every page (Danish by default)."""
    session.lang()
    st.segmented_control(t("app.language"), LANGUAGES, key="lang", format_func=str.upper,
                         label_visibility="collapsed", required=True)


def login_box() -> None:
    """Log in with a local account, or show who is logged in with a log-out button."""
    actor = session.actor()
    if actor.name:
        st.caption(t("login.as", name=actor.name, role=t(f"role.{actor.role.value}")))
        if st.button(t("login.logout"), key="logout"):
            session.set_actor(None)
            st.rerun()
        return
    with st.form("login", border=True):
        st.markdown(f"**{t('login.title')}**")
        name = st.text_input(t("login.name"), key="login_name")
        password = st.text_input(t("login.password"), type="password", key="login_password")
        if st.form_submit_button(t("login.submit"), width="stretch"):
            try:
                session.set_actor(user_service.authenticate(session.engine(), name, password))
            except DkeError as exc:
                st.error(exc.message(session.lang()))
            else:
                st.rerun()


@dataclass(frozen=True)
class MapResult:
    """What st_folium reports back, typed once here."""
    clicked: tuple[float, float] | None  # (lon, lat) of the last click
    zoom: int | None
    bounds: dict | None


def show_map(m: folium.Map, key: str, height: int = 520, returned: tuple[str, ...] = ("last_clicked",)) -> MapResult:
    """Draw a folium map (assets already localised) and return the user's last click, typed."""
    out = st_folium(m, key=key, height=height, use_container_width=True, returned_objects=list(returned)) or {}
    click = out.get("last_clicked")
    return MapResult(clicked=(click["lng"], click["lat"]) if click else None, zoom=out.get("zoom"),
                     bounds=out.get("bounds"))
