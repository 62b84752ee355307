"""The recording page before a walk is chosen: start a walk (title, areas, kind, focus, time, light, who takes
part: the organisations of data/organisations.toml, stored by id, with head counts) or continue one of the
recent walks. The start form opens by itself when no walk is open."""
from __future__ import annotations

from datetime import datetime

import streamlit as st

from dke_geo import light, organisations
from dke_geo.light import LightCondition
from dke_geo.model import TZ, WalkKind, now
from dke_geo.services import recording
from dke_geo.ui import session, widgets
from dke_geo.ui.record.state import LIST_STEP, call, new_form, scroll_to, ss
from dke_geo.ui.session import t


def show(names: dict[str, str]) -> None:
    """No walk chosen: continue one of the recent walks, or start one (open at once when no walk is open)."""
    summaries = call(recording.recent_walks, limit=15) or []
    with st.expander(t("record.start_heading"), icon="➕", expanded=not any(s.walk.is_open for s in summaries)):
        _start_form(names)
    st.subheader(t("record.recent_heading"))
    if not summaries:
        st.caption(t("record.no_walks"))
    for item in summaries:
        _walk_row(item, names)


def _start_form(names: dict[str, str]) -> None:
    """The fields of a new walk; `_start_walk` stores it when its button is pressed."""
    st.text_input(t("record.walk_title"), key="record_new_title", placeholder=t("record.walk_title_hint"),
                  max_chars=200)
    st.pills(t("field.area_ids"), list(names), format_func=names.get, selection_mode="multi",
             key="record_new_areas")
    st.segmented_control(t("record.walk_kind"), list(WalkKind), format_func=lambda k: t(f"kind.{k}"),
                         default=WalkKind.ON_FOOT, required=True, key="record_new_kind")
    st.text_input(t("record.walk_focus"), key="record_new_focus", max_chars=200)
    day_col, time_col = st.columns(2)
    day = day_col.date_input(t("record.walk_date"), value=now().date(), format="DD.MM.YYYY",
                             key="record_new_date")
    at = time_col.time_input(t("record.walk_time"), value=now().time().replace(second=0, microsecond=0),
                             step=300, key="record_new_time")
    sun_text = t("record.light_from_sun", light=t(f"light.{light.light_condition(_started(day, at))}"))
    st.segmented_control(t("record.walk_light"), ["sun", *LightCondition], required=True, default="sun",
                         format_func=lambda c: sun_text if c == "sun" else t(f"light.{c}"), key="record_new_light")
    orgs = list(organisations.organisations())  # every organisation may take part; stored by id
    chosen = st.pills(t("field.organisations"), orgs, selection_mode="multi", default=orgs[:1],
                      format_func=lambda org: organisations.label(org, session.lang()), key="record_new_orgs")
    counts = st.columns(3)
    for i, org in enumerate(chosen or []):
        counts[i % 3].number_input(t("record.org_count", name=organisations.label(org, session.lang())), min_value=1,
                                   max_value=500, value=1, step=1, key=f"record_new_n_{org}")
    st.button(t("record.start"), type="primary", icon="🚶", width="stretch", key="record_start_button",
              on_click=_start_walk)


def _walk_row(item: recording.WalkSummary, names: dict[str, str]) -> None:
    """One recent walk: title, date, findings, areas, open or ended; a button to continue or view it."""
    walk = item.walk
    with st.container(border=True, key=f"record_walk_{walk.id}"):
        text_col, button_col = st.columns([3, 1], vertical_alignment="center")
        with text_col:
            st.markdown(f"**{widgets.plain(walk.title)}**")
            if walk.is_demo:
                widgets.demo_badge()
            st.caption(t("record.walk_line", date=f"{walk.started_at:%d.%m.%Y %H:%M}", findings=item.findings,
                         areas=widgets.plain(", ".join(names.get(a, a) for a in walk.area_ids))
                         or t("record.no_area"),
                         state=t("record.state_open" if walk.is_open else "record.state_ended")))
        button_col.button(t("record.continue" if walk.is_open else "record.view"), key=f"record_open_{walk.id}",
                          type="primary" if walk.is_open else "secondary", width="stretch",
                          on_click=_open_walk, args=(str(walk.id),))


def _started(day, at) -> datetime:
    return datetime.combine(day, at, tzinfo=TZ)


def _start_walk() -> None:
    light_choice = ss.record_new_light
    walk = call(recording.start_walk, {
        "title": ss.record_new_title, "area_ids": ss.record_new_areas or [], "kind": ss.record_new_kind,
        "focus": ss.record_new_focus, "started_at": _started(ss.record_new_date, ss.record_new_time),
        "organisations": [{"organisation": org, "count": ss.get(f"record_new_n_{org}", 1)}
                          for org in ss.record_new_orgs or []],
        "light_condition_override": None if light_choice == "sun" else light_choice}, lang=session.lang())
    if walk is not None:
        _open_walk(str(walk.id))


def _open_walk(walk_id: str) -> None:
    ss.record_walk = walk_id
    ss.record_list_limit = LIST_STEP
    ss.pop("record_editing", None)
    new_form()
    scroll_to("record_walk_header")
