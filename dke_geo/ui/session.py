"""Per-session state shared by all pages: the engine, the language, the logged-in actor."""
from __future__ import annotations

import streamlit as st
from sqlalchemy import Engine

from dke_geo import config
from dke_geo.i18n import LANGUAGES
from dke_geo.i18n import t as _t
from dke_geo.roles import PUBLIC, Actor
from dke_geo.store.db import default_engine, migrate


@st.cache_resource
def engine() -> Engine:
    """One engine per server process; the schema is brought up to date once."""
    e = default_engine()
    migrate(e)
    return e


def lang() -> str:
    if st.session_state.get("lang") not in LANGUAGES:
        default = config.get("DKE_GEO_LANGUAGE")
        st.session_state["lang"] = default if default in LANGUAGES else "da"
    return st.session_state["lang"]


def t(key: str, **values) -> str:
    """The text for `key` in this session's language."""
    return _t(key, lang(), **values)


def actor() -> Actor:
    """Who is logged in (the public, if nobody)."""
    return st.session_state.get("actor", PUBLIC)


def set_actor(value: Actor | None) -> None:
    if value is None:
        st.session_state.pop("actor", None)
    else:
        st.session_state["actor"] = value
