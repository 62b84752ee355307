"""Streamlit pieces shared by the pages: language switch, the map component adapter (login: ui/auth.py)."""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import folium
import streamlit as st
from streamlit_folium import st_folium

from dke_geo.categories import categories
from dke_geo.i18n import LANGUAGES
from dke_geo.ui import browser, session
from dke_geo.ui.session import t


def plain(text: str | None) -> str:
    """User text made inert for st.markdown: every markdown character escaped, so no link, image, HTML or
    colour directive in a title, note or name can take effect."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~$:=&])", r"\\\1", text or "")


def language_switch() -> None:
    """DA | EN, at the top of every page (Danish by default); a choice other than the default is kept in the
    address (`?lang=en`), so it survives a reload and travels with a shared link; the page's `lang` follows it."""
    st.segmented_control(t("app.language"), LANGUAGES, key="lang", default=session.default_lang(),
                         label_visibility="collapsed", required=True, bind="query-params")  # shown as DA | EN: app.css
    browser.page_lang(session.lang())


_APP_CSS = Path(__file__).with_name("app.css").read_text(encoding="utf-8")  # rules for every page, read once
_BUILTIN_TEXTS = (  # (where, string key, font size): Streamlit's English texts and the size they are shown at
    ('[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p', "app.upload_button", 14),
    ('[data-testid="stFileUploaderDropzoneInstructions"] span', "app.upload_hint", 14),
    ('[data-testid="stCameraInputButton"]', "app.camera_shoot", 16),
    ('[data-testid="stCameraInputWebcamComponent"] p', "app.camera_allow", 16),
    ('[role="option"][style*="contents"] > span', "app.no_results", 14),  # a list's search found nothing
    ('[data-testid="stSkipToContent"]', "app.skip_to_content", 16),  # the keyboard's first stop on every page
    # the menu's "N more", when the pages do not fit beside an open sidebar (our own sections have a chevron)
    ('[data-testid="stTopNavSection"]:not(:has(> [aria-hidden="true"])) p', "nav.overflow", 14),
)


def builtin_texts() -> None:
    """Streamlit's own texts in its file picker, camera, lists, menu and skip link ("Upload", "200MB per file",
    "Take Photo", "No results", "6 more", "Skip to main content", ...) are English only and cannot be set
    (streamlit#13500): our text from the strings table, in the chosen language, replaces them through CSS (the
    original shrunk to nothing, ours drawn after it). Where Streamlit has a parameter for a text (placeholder=,
    help=, select_all=), the pages use it instead. tests/e2e/test_danish.py reads every page for English left."""
    rules = "".join(f"{where} {{ font-size: 0; }} {where}::after {{ content: {_css_text(t(key))}; font-size: {px}px; }}"
                    for where, key, px in _BUILTIN_TEXTS)
    st.html(f"<style>{_APP_CSS}{rules}</style>")


def all_or_some(label: str, options, key: str, format_func, where=st) -> list:
    """A multiselect whose empty choice means "all" (the planners' filters): its placeholder says so in the chosen
    language, and it offers no "Select all" (English only in Streamlit, and the same as choosing nothing)."""
    return where.multiselect(label, options, key=key, format_func=format_func, placeholder=t("app.all"),
                             select_all=False)


def _css_text(text: str) -> str:
    """`text` as a CSS string: every character but letters, digits and spaces as a hex escape, so nothing in
    it can end the string or the style element."""
    return '"' + "".join(c if c.isalnum() or c == " " else f"\\{ord(c):x} " for c in text) + '"'


@dataclass(frozen=True)
class MapResult:
    """What st_folium reports back, typed once here."""
    clicked: tuple[float, float] | None  # (lon, lat) of the last click
    zoom: int | None
    bounds: dict | None
    drawings: tuple[dict, ...] | None = None  # the drawing tool's layer as GeoJSON features (None: not touched yet)


def show_map(m: folium.Map, key: str, height: int = 520, returned: tuple[str, ...] = ("last_clicked",),
             layers: Sequence[folium.FeatureGroup] = (),
             on_change: Callable[[MapResult], None] | None = None) -> MapResult:
    """Draw a folium map (assets already localised) and return the user's last click, typed.

    `layers` change without reloading the map (the user's zoom and position stay): pass what changes between
    reruns (pins) here and keep `m` itself the same. `on_change` gets the new result before the rerun a tap
    causes, so that rerun already draws what the tap changed (no second rerun, which could swallow the user's
    next tap)."""
    out = st_folium(m, key=key, height=height, use_container_width=True, returned_objects=list(returned),
                    feature_group_to_add=list(layers) or None,
                    on_change=on_change and (lambda: on_change(_map_result(st.session_state.get(key))))) or {}
    return _map_result(out)


def static_map(html: str, height: int, label: str) -> None:
    """A map the page does not read back from, drawn from its HTML page (rendered once per view) in an iframe of
    its own. st_folium would re-render the same folium object on every rerun and, since it renames the object's
    elements in place, the second drawing refers to layers that no longer exist (the map vanishes after a
    rerun); it would also re-run the whole script inside the same frame. `label` names the map for a screen reader.
    """
    st.iframe(html, height=height, alt=label)


def _map_result(out: dict | None) -> MapResult:
    out = out or {}
    click = out.get("last_clicked")
    drawings = out.get("all_drawings")
    return MapResult(clicked=(click["lng"], click["lat"]) if click else None, zoom=out.get("zoom"),
                     bounds=out.get("bounds"), drawings=None if drawings is None else tuple(drawings))


def category_buttons(key: str, default: str | None = None) -> str | None:
    """The finding categories as large buttons with icon and label. Once one is chosen, one stays chosen (under
    `key` in session state) until another is tapped. They are one widget with a value (pills), not buttons with
    one-off clicks: a value survives the quick taps of a user who does not wait for the page to rerun."""
    cats = categories()
    return st.pills(t("field.category"), list(cats), selection_mode="single", required=True, default=default,
                    format_func=lambda c: f"{cats[c].icon} {cats[c].label(session.lang())}", key=key,
                    width="stretch")


def message_once(key: str) -> None:
    """The success message an action left under `key` in session state for the run after it: shown, then
    forgotten. In this order: Streamlit stops a run at its next element when the user has clicked again meanwhile,
    and a message taken out before it was shown would be lost with that run."""
    if key in st.session_state:
        st.success(st.session_state[key])
        st.session_state.pop(key, None)


def demo_badge() -> None:
    """The DEMO mark on made-up walks and findings."""
    st.badge(t("app.demo_badge"), icon="🧪", color="orange")
