"""The save button of the recording page, in a bar fixed at the bottom of the screen, outside the scrolling
page: the page scrolls in the space above the bar (record.css), so the bar never lies over an input, and a tap
meant for the form (the safety row, say) can never save the finding early.

A fixed bar is placed against the screen, not the page; the few lines of JavaScript below give it the left edge
and width of the page's content (which move when the sidebar opens or the tablet turns), through two CSS
variables. Without them (before the script runs) the bar spans the screen.
"""
from __future__ import annotations

from collections.abc import Callable

import streamlit as st
from streamlit.components.v2 import component

_PLACE_JS = """
export default function () {
  const content = document.querySelector('[data-testid="stMainBlockContainer"]');
  if (!content) { return; }
  const root = document.documentElement.style;
  const place = () => {
    const box = content.getBoundingClientRect(), style = getComputedStyle(content);
    const left = box.left + parseFloat(style.paddingLeft), right = box.right - parseFloat(style.paddingRight);
    root.setProperty("--dke-content-left", `${left}px`);
    root.setProperty("--dke-content-width", `${right - left}px`);
  };
  const observer = new ResizeObserver(place);
  observer.observe(content);
  window.addEventListener("resize", place);
  place();
  return () => { observer.disconnect(); window.removeEventListener("resize", place); };
}
"""
_place = component("dke_geo.save_bar", js=_PLACE_JS)


def show(label: str, key: str, on_click: Callable, args: tuple) -> None:
    """The bar with its one primary button (`on_click(*args)` runs before the rerun the tap causes)."""
    with st.container(key="record_save_bar"):
        _place(key="record_save_bar_place", height=0)
        st.button(label, type="primary", icon="💾", width="stretch", key=key, on_click=on_click, args=args)
