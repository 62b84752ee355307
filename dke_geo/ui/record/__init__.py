"""The recording page's pieces, one module per screen; dke_geo/ui/pages/record.py puts them on the page.

- walk_chooser: start a walk, or continue one of the recent walks
- walk_header: the chosen walk, and ending, resuming or leaving it
- finding_form: the map, "use my position", the finding's form with its photos, the save bar
- findings_list and edit_dialog: the walk's findings, and correcting or deleting one
- state: the session keys (all `record_`), the draft kept over a reload, the page's one message, scrolling
- record.css: the tablet layout, injected by `style()`

Every action reads the widgets, calls one function of dke_geo/services/recording.py (where the rules and role
checks live) and shows its result; a DkeError is shown as its message and the form is kept.
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

_CSS = "<style>\n" + (Path(__file__).with_name("record.css")).read_text(encoding="utf-8") + "</style>"


def style() -> None:
    """The page's layout rules (record.css), read once when the package is imported."""
    st.html(_CSS)
