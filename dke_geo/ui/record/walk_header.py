"""The chosen walk at the top of the recording page: what, where, when, the light, who took part (organisation
labels in the reader's language); and the buttons to end it, resume it, or go back to the list of walks."""
from __future__ import annotations

import streamlit as st

from dke_geo.services import recording
from dke_geo.ui import session, widgets
from dke_geo.ui.record.state import call, flash, new_form, ss
from dke_geo.ui.session import t


def show(detail: recording.WalkDetail, names: dict[str, str]) -> None:
    """The chosen walk: what, where, when, the light, who took part; end, resume or leave it."""
    walk = detail.walk
    with st.container(border=True, key="record_walk_header"):
        st.markdown(f"**{widgets.plain(walk.title)}**")
        if walk.is_demo:
            widgets.demo_badge()
        light_text = t(f"light.{walk.light_condition}") + " " + t(
            "record.light_given" if walk.light_condition_override else "record.light_sun")
        st.caption(" · ".join(filter(None, [
            widgets.plain(", ".join(names.get(a, a) for a in walk.area_ids)) or t("record.no_area"),
            f"{walk.started_at:%d.%m.%Y %H:%M}" + (f"–{walk.ended_at:%H:%M}" if walk.ended_at else ""),
            t(f"kind.{walk.kind}"), light_text, t("record.n_findings", n=len(detail.findings)),
            widgets.plain(", ".join(f"{o.shown(session.lang())} ({o.count})" for o in walk.organisations))])))
        if walk.focus:
            st.caption(t("record.focus_line", focus=widgets.plain(walk.focus)))
        left, right = st.columns(2)
        if walk.is_open:
            left.button(t("record.end_walk"), icon="🏁", width="stretch", key="record_end",
                        on_click=_end_walk, args=(str(walk.id),))
        else:
            st.info(t("record.walk_is_ended"))
            left.button(t("record.resume_walk"), icon="▶️", type="primary", width="stretch", key="record_resume",
                        on_click=_resume_walk, args=(str(walk.id),))
        right.button(t("record.other_walk"), icon="↩️", width="stretch", key="record_leave", on_click=_leave_walk)


def _end_walk(walk_id: str) -> None:
    if call(recording.end_walk, walk_id) is not None:
        flash("success", t("record.walk_ended_ok"))


def _resume_walk(walk_id: str) -> None:
    if call(recording.resume_walk, walk_id) is not None:
        new_form()


def _leave_walk() -> None:
    ss.pop("record_walk", None)
    ss.pop("record_editing", None)
