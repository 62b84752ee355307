"""Per-session state shared by all pages: the app context, the language, the logged-in actor.

The app context (settings, engine, caches: dke_geo/context.py) is made once per server process and
configuration, with its notification scheduler; every page gets it from `context()` and passes it to the
services.
"""
from __future__ import annotations

import contextlib
import gc
import importlib
import threading

import streamlit as st

from dke_geo import config
from dke_geo.context import AppContext
from dke_geo.errors import DkeError
from dke_geo.i18n import LANGUAGES
from dke_geo.i18n import t as _t
from dke_geo.roles import PUBLIC, Actor
from dke_geo.services import hotspots, maintenance, notifications


class NotReady(Exception):
    """The app cannot start: a setting is wrong or the database needs `init-db`; the message says which."""


@st.cache_resource(show_spinner=False)
def _context(values: tuple[tuple[str, str], ...]) -> AppContext:
    """One context per server process and configuration (a test with other settings gets its own)."""
    context = AppContext.open(config.Settings(values))
    if not maintenance.is_prepared(context):
        context.close()
        raise NotReady("database")
    context.columns.start()  # the SQLite column worker loads while the first page is drawn
    notifications.start_scheduler(context)  # one sender per app context, whatever the number of browser sessions
    _settle_heap()
    return context


def warm_up() -> None:
    """Once a tab may see internal data (staff, planners), start loading what the Hotspots page needs before its
    first view, once per server: esda, libpysal and altair, and the findings read as columns (some 2 s of a 2-core
    server's time at 100,000 findings). In the background while the tab's first pages are drawn, so the first
    planner to open Hotspots after a start does not wait for it (issue 14); a page that asks meanwhile waits for
    this read instead of making its own (AppContext.cached). A server only residents use never pays for it."""
    _warm_up_thread(config.load().values)


@st.cache_resource(show_spinner=False)
def _warm_up_thread(values: tuple[tuple[str, str], ...]) -> threading.Thread:
    thread = threading.Thread(target=_warm_up, args=(_context(values),), name="dke-geo-warm-up", daemon=True)
    thread.start()
    return thread


def _warm_up(context: AppContext) -> None:
    """The warm-up's work; then the heap settles again, with the new modules frozen too (see `_settle_heap`)."""
    importlib.import_module("dke_geo.ui.hotspots_view")
    with contextlib.suppress(DkeError):  # the database is away: the page says so when it is opened
        hotspots.prefetch(context)
    _settle_heap()


def _settle_heap() -> None:
    """Take what the process has loaded by now (Streamlit, pandas, geopandas, folium, SQLAlchemy, our modules: some
    190,000 objects that live as long as the process) out of the cyclic garbage collector's walk (`gc.freeze`).
    Streamlit collects after every script run, a fragment's too (`runner.postScriptGC`), and walking those objects
    took 150-400 ms of a 2-core server's time per tap on the recording page: more than the rerun itself (issue 14).
    The collection still frees what the runs leave behind; reference counting frees frozen objects as before. One
    collection first, so no garbage is frozen."""
    gc.collect()
    gc.freeze()


def context() -> AppContext:
    """The app context for the settings in the environment (checked: config.load). Raises StartupError for a
    bad setting and NotReady when the database is not prepared."""
    return _context(config.load().values)


def default_lang() -> str:
    """The configured default language (DKE_GEO_LANGUAGE)."""
    default = config.get("DKE_GEO_LANGUAGE")
    return default if default in LANGUAGES else "da"


def lang() -> str:
    """The session's language: the switch's choice, kept in the address as `?lang=en` (so over a reload and in a
    shared link), else the default. Read before the switch is drawn too (the menu's labels come first)."""
    for chosen in (st.session_state.get("lang"), st.query_params.get("lang")):
        if chosen in LANGUAGES:
            return chosen
    return default_lang()


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
