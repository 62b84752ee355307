"""Recording in the field, on a tablet: start or resume a walk; place a finding by tapping the map, with the
tablet's GPS or from a photo's position; choose category and severity, add a note and photos; save; correct
earlier findings.

Sections, top to bottom: the walk, recording (messages, map, form, save), the walk's findings, the follow-up of
earlier walks in its areas (folded). The sections live
in dke_geo/ui/record/ (one module each, described there); this page only lays them out. Session keys start
with `record_`.
"""
from __future__ import annotations

import streamlit as st

from dke_geo.errors import DkeError
from dke_geo.services import recording
from dke_geo.ui import followup, record, session
from dke_geo.ui.record import finding_form, findings_list, night, state, walk_chooser, walk_header
from dke_geo.ui.session import t

if "record_pending_id" not in state.ss:
    state.new_form()
    state.restore_draft()
record.style()
with st.container(key="record_page"):
    night.show()
    st.title(t("record.title"))
    messages = st.empty()  # a fixed slot above the map: messages never push the map's iframe around
    try:
        areas = state.last_good("record_last_areas", session.context().areas)
        names = dict(zip(areas["id"], areas["name"], strict=True))
        if state.ss.get("record_walk") is None:
            walk_chooser.show(names)
        else:
            detail = state.last_good(f"record_last_{state.ss.record_walk}", recording.walk_detail, session.context(),
                                     session.actor(), state.ss.record_walk)
            walk_header.show(detail, names)
            if detail.walk.is_open:
                finding_form.show(detail, areas)
            findings_list.show(detail, names)  # the walk's own work first, then what to follow up (folded)
            followup.panel(detail.walk)
    except DkeError as exc:
        state.flash("error", exc.message(session.lang()))
    state.show_flash(messages)
finding_form.gps_probe()
state.scroll()
