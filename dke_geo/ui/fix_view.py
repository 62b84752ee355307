"""The fix page (opened from the board): details, one action to change state, the details form, the
history as a timeline and the before/after photos side by side. Also the small pieces the follow-up panel
shares with it (safe markdown, dates, photo uploads, residents' answers)."""
from __future__ import annotations

from collections import Counter
from datetime import date, datetime

import pandas as pd
import streamlit as st

from dke_geo import lifecycle, organisations, photos
from dke_geo.categories import categories
from dke_geo.errors import Conflict, DkeError
from dke_geo.model import TZ, FixEvent, Photo, Priority
from dke_geo.roles import Permission
from dke_geo.services import answers, notifications
from dke_geo.services import fixes as svc
from dke_geo.ui import session
from dke_geo.ui.session import t
from dke_geo.ui.widgets import message_once, plain

_GROUP_COLOUR = {"open": "blue", "planned": "orange", "resolved": "green", "closed": "gray"}


def when(value: datetime | date | None) -> str:
    if value is None or (not isinstance(value, (date, datetime)) and pd.isna(value)):
        return t("fixes.detail.none")
    if isinstance(value, datetime):
        return value.astimezone(TZ).strftime("%d.%m.%Y %H:%M")
    return value.strftime("%d.%m.%Y")


def money(value) -> str:
    """An amount in DKK as Danes write it ("12.500 kr."); nothing when there is none."""
    return "" if value is None or pd.isna(value) else f"{int(value):,} kr.".replace(",", ".")


def upload(file) -> photos.Upload | None:
    """A Streamlit upload as the photos module's Upload."""
    return photos.Upload(file.name, file.getvalue()) if file is not None else None


def state_badge(state: str) -> None:
    st.badge(t(f"fixes.state.{state}"), color=_GROUP_COLOUR[lifecycle.group(state).value])


def show(fix_id: str) -> None:
    """The whole fix page for `fix_id`; the version first seen is what a change is checked against."""
    ctx, actor, lang = session.context(), session.actor(), session.lang()
    st.button(t("fixes.back"), on_click=_back, key="fixes_back")
    try:
        detail = svc.get_fix(ctx, actor, fix_id)
    except DkeError as exc:
        st.error(exc.message(lang))
        return
    fix = detail.fix
    seen_key = f"fixes_seen_{fix.id}"
    seen = st.session_state.setdefault(seen_key, fix.version)
    message_once("fixes_flash")

    st.header(plain(fix.title))
    badges = st.columns([1, 1, 6])
    with badges[0]:
        state_badge(fix.state)
    if svc.is_overdue(fix):
        badges[1].badge(t("fixes.overdue"), icon="⚠️", color="red")
    if fix.is_demo:
        badges[2].badge(t("app.demo_badge"), icon="🧪", color="orange")
    if seen != fix.version:
        st.warning(t("fixes.action.changed", by=fix.updated_by, at=when(fix.updated_at)))
        st.button(t("fixes.action.reload"), on_click=_forget, args=(seen_key,), key="fixes_reload")

    _details(detail, lang)
    if actor.can(Permission.MANAGE_FIXES):
        _action(fix, seen, seen_key, lang)
        _edit(fix, seen, seen_key, lang)
    _photos(detail)
    _messages(str(fix.id), lang)
    _answers(fix.id)
    _timeline(detail.events, {p.id: p for p in detail.after})


def _details(detail: svc.FixDetail, lang: str) -> None:
    fix = detail.fix
    org = organisations.label(fix.organisation, lang) if fix.organisation else t("fixes.unassigned")
    cost = money(fix.cost_dkk) or t("fixes.detail.none")
    cols = st.columns(5)
    for col, label, value in zip(cols, ("organisation", "contact_role", "due_date", "cost", "priority"),
                                 (org, fix.contact_role or t("fixes.detail.none"), when(fix.due_date), cost,
                                  t(f"fixes.priority.{fix.priority.value}")), strict=True):
        col.markdown(f"**{t(f'fixes.detail.{label}')}**  \n{plain(value)}")
    st.caption(t("fixes.detail.created", at=when(fix.created_at), by=plain(fix.created_by)))
    if fix.description:
        st.text(fix.description)
    if fix.state == lifecycle.State.REJECTED:
        st.markdown(f"**{t('fixes.detail.reject_reason')}** {plain(fix.reject_reason)}")
    st.subheader(t("fixes.detail.findings"))
    counts = Counter(detail.statuses.values())
    st.markdown(t("fixes.detail.finding_statuses", summary=", ".join(
        f"{t(f'fixes.group.{g}')}: {counts[g]}" for g in ("open", "planned", "resolved") if counts[g])))
    cats, names = categories(), session.context().area_names()
    st.dataframe(pd.DataFrame({
        t("fixes.col.category"): [cats[o.category].label(lang) for o in detail.findings],
        t("fixes.col.severity"): [t(f"severity.{o.severity}") for o in detail.findings],
        t("fixes.col.observed_at"): [when(o.observed_at) for o in detail.findings],
        t("fixes.col.areas"): [names.get(o.area_id, "") for o in detail.findings],
        t("fixes.col.status"): [t(f"fixes.group.{detail.statuses.get(str(o.id), 'open')}") for o in detail.findings],
        t("fixes.col.note"): [o.internal_note or "" for o in detail.findings],
    }), hide_index=True, width="stretch")


def _action(fix, seen: int, seen_key: str, lang: str) -> None:
    """One action: the next state (only those the table allows), an optional comment and after photo."""
    st.subheader(t("fixes.action.title"))
    moves = lifecycle.moves_from(fix.state)
    if not moves:
        st.caption(t("fixes.action.final"))
        return
    form = f"{fix.id}_{seen}"  # new, empty fields once a move is stored: its comment is never sent with the next one
    with st.form(f"fixes_action_{form}", border=True):
        target = st.radio(t("fixes.action.target"), [m.target.value for m in moves], horizontal=True,
                          format_func=lambda s: t(f"fixes.state.{s}"), key=f"fixes_target_{form}")
        comment = st.text_area(t("fixes.action.comment"), key=f"fixes_comment_{form}", max_chars=4000)
        # no `type=`: a file that is not a photo gets the service's message in the chosen language, not Streamlit's
        photo = st.file_uploader(t("fixes.action.photo"), key=f"fixes_photo_{form}")
        submitted = st.form_submit_button(t("fixes.action.submit"), type="primary")
    if submitted:
        try:
            moved = svc.transition_fix(session.context(), session.actor(), fix.id, seen, target, comment, upload(photo))
        except DkeError as exc:
            _refused(exc, seen_key, lang)
        else:
            _saved(seen_key, moved.version, t("fixes.action.done", state=t(f"fixes.state.{moved.state}")))


def _edit(fix, seen: int, seen_key: str, lang: str) -> None:
    if lifecycle.State(fix.state) in lifecycle.FINAL:
        return
    orgs = organisations.responsible()
    with st.expander(t("fixes.edit.title")), st.form(f"fixes_edit_{fix.id}", border=False):
        changes = {
            "title": st.text_input(t("fixes.new.title"), fix.title, max_chars=200),
            "description": st.text_area(t("fixes.new.description"), fix.description, max_chars=4000),
            "organisation": st.selectbox(t("fixes.filter.organisation"), list(orgs),
                                         index=list(orgs).index(fix.organisation) if fix.organisation in orgs
                                         else None, format_func=lambda o: orgs[o].label(lang)),
            "contact_role": st.text_input(t("fixes.new.contact_role"), fix.contact_role, max_chars=200),
            "due_date": st.date_input(t("fixes.new.due_date"), fix.due_date, format="DD.MM.YYYY"),
            "cost_dkk": st.number_input(t("fixes.new.cost"), min_value=0, value=fix.cost_dkk, step=500),
            "priority": st.selectbox(t("fixes.col.priority"), [p.value for p in Priority],
                                     index=[p.value for p in Priority].index(fix.priority.value),
                                     format_func=lambda p: t(f"fixes.priority.{p}")),
        }
        submitted = st.form_submit_button(t("fixes.edit.submit"))
    if submitted:
        try:
            edited = svc.edit_fix(session.context(), session.actor(), fix.id, seen, changes)
        except DkeError as exc:
            _refused(exc, seen_key, lang)
        else:
            _saved(seen_key, edited.version, t("fixes.edit.saved"))


def _refused(exc: DkeError, seen_key: str, lang: str) -> None:
    """The translated reason; on a conflict, a button to reload the fix as it is now."""
    st.error(exc.message(lang))
    if isinstance(exc, Conflict):
        st.button(t("fixes.action.reload"), on_click=_forget, args=(seen_key,), key="fixes_conflict_reload")


def _saved(seen_key: str, version: int, message: str) -> None:
    st.session_state[seen_key] = version
    st.session_state["fixes_flash"] = message
    st.rerun()


def _photos(detail: svc.FixDetail) -> None:
    before, after = st.columns(2)
    for col, label, pictures in ((before, "fixes.photos.before", detail.before),
                                 (after, "fixes.photos.after", detail.after)):
        with col:
            st.subheader(t(label))
            if not pictures:
                st.caption(t("fixes.photos.none"))
            for picture in pictures:
                _image(picture)


def _image(picture: Photo, width: int | None = None) -> None:
    path = photos.file(picture.full_path if width is None else picture.thumb_path)
    if path.is_file():
        st.image(str(path), width=width or "stretch", caption=when(picture.created_at))
    else:
        st.caption(t("fixes.photos.missing"))


def _messages(fix_id: str, lang: str) -> None:
    """What was sent to the organisations about this fix, when, and whether it was delivered."""
    st.subheader(t("fixes.messages.title"))
    sent = notifications.fix_messages(session.context(), session.actor(), fix_id)
    if sent.empty:
        st.caption(t("fixes.messages.none"))
        return
    messages_table(sent, lang)


def messages_table(rows: pd.DataFrame, lang: str, *, detail: bool = False) -> None:
    """Outbox rows as a table in the reader's language: when, what, to whom, its state, when sent, the last error;
    `detail` adds the subject and the attempts (the administrator's outbox)."""
    columns = {t("fixes.messages.col.created"): rows["created_at"].map(when),
               t("fixes.messages.col.kind"): [t(f"notify.kind.{k}") for k in rows["kind"]],
               t("fixes.messages.col.to"): [organisations.label(o, lang) for o in rows["organisation"]]}
    if detail:
        columns[t("admin.outbox.subject")] = rows["subject"]
    columns[t("fixes.messages.col.state")] = [t(f"notify.state.{s}") for s in rows["state"]]
    if detail:
        columns[t("admin.outbox.attempts")] = rows["attempts"]
    columns[t("fixes.messages.col.sent")] = rows["sent_at"].map(lambda v: "" if v is None or pd.isna(v) else when(v))
    columns[t("fixes.messages.col.error")] = rows["last_error"]
    st.dataframe(pd.DataFrame(columns), hide_index=True, width="stretch")


def _answers(fix_id) -> None:
    """What residents answered about the fix's findings ("Er det stadig et problem?")."""
    try:
        found = answers.for_fix(session.context(), session.actor(), fix_id)
    except DkeError as exc:
        st.error(exc.message(session.lang()))
        return
    answers_table(found)


def answers_table(found: answers.Answers) -> None:
    """Residents' answers for staff, newest first: when, yes/no, which finding and the resident's text (untrusted:
    shown as plain text in a table cell), with a one-line summary; or a line saying there are none."""
    rows = found.rows
    st.markdown(f"**{t('answers.staff.title')}**")
    if rows.empty:
        st.caption(t("answers.staff.none"))
        return
    still = int(rows["still_a_problem"].astype(bool).sum())
    st.caption(t("answers.staff.summary", still=still, fine=len(rows) - still))
    cats, names, lang = categories(), session.context().area_names(), session.lang()
    st.dataframe(pd.DataFrame({
        t("answers.staff.col.when"): [when(at) for at in rows["at"]],
        t("answers.staff.col.answer"): [t("answers.staff.still" if s else "answers.staff.fine")
                                        for s in rows["still_a_problem"]],
        t("answers.staff.col.finding"): [", ".join(filter(None, (cats[c].label(lang), names.get(a or ""))))
                                         for c, a in zip(rows["category"], rows["area_id"], strict=True)],
        t("answers.staff.col.text"): rows["text"].tolist(),
    }), hide_index=True, width="stretch")


def _timeline(events: list[FixEvent], after: dict) -> None:
    st.subheader(t("fixes.timeline"))
    for event in events:
        if event.from_state is None:
            what = t("fixes.timeline.created", state=t(f"fixes.state.{event.to_state}"))
        elif event.from_state == event.to_state:
            fields = ", ".join(t(f"fixes.field.{f}") for f in event.comment.split(", "))
            what = t("fixes.timeline.edited", fields=fields)
        else:
            what = t("fixes.timeline.moved", source=t(f"fixes.state.{event.from_state}"),
                     target=t(f"fixes.state.{event.to_state}"))
        with st.container(border=True):
            st.markdown(f"**{when(event.at)}** · {plain(event.by)} · {plain(what)}")
            if event.comment and event.from_state != event.to_state:  # an edit's comment is its field list
                st.text(event.comment)
            if event.photo_id in after:
                _image(after[event.photo_id], width=160)


def _back() -> None:
    st.query_params.pop("fix", None)


def _forget(seen_key: str) -> None:
    st.session_state.pop(seen_key, None)
