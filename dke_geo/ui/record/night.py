"""Night mode for the recording page: a dark theme (night.css: dark background, light text at well over 4.5:1, a
bright focus ring, bigger text and targets) for walks after dark, switched by a toggle and kept with the user
(services/preferences.py). Shown first on the page, so the dark colours arrive before anything else is drawn."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from dke_geo.errors import DkeError
from dke_geo.services import preferences
from dke_geo.ui import session
from dke_geo.ui.session import t

_CSS = "<style>\n" + (Path(__file__).with_name("night.css")).read_text(encoding="utf-8") + "</style>"
_KEY = "record_night_toggle"


def _save() -> None:
    try:
        preferences.set_theme(session.context(), session.actor(), "dark" if st.session_state[_KEY] else "light")
    except DkeError as exc:  # the choice still holds for this session
        st.toast(exc.message(session.lang()))


def show() -> None:
    """The night-mode toggle, with the dark stylesheet while it is on."""
    if _KEY not in st.session_state:
        try:
            st.session_state[_KEY] = preferences.theme(session.context(), session.actor()) == "dark"
        except DkeError:
            st.session_state[_KEY] = False
    if st.session_state[_KEY]:
        with st.container(key="record_night"):
            st.html(_CSS)
    st.toggle(t("night.toggle"), key=_KEY, help=t("night.help"), on_change=_save)
