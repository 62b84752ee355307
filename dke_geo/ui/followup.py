"""Follow-up on a later walk, for the recording page: the walk's areas' done-but-not-verified fixes and open
findings from earlier walks, each with "fixed" and "still a problem" (an optional comment and after photo),
and the same items as a layer for the walk map. The rules (who may, which moves) live in services/fixes.py.
Session keys start with `fixes_fu_`."""
from __future__ import annotations

import folium
import pandas as pd
import streamlit as st

from dke_geo import organisations
from dke_geo.categories import categories
from dke_geo.errors import DkeError
from dke_geo.maps.followup import follow_up_layer
from dke_geo.model import Walk
from dke_geo.services import answers
from dke_geo.services import fixes as svc
from dke_geo.ui import session
from dke_geo.ui.fix_view import answers_table, upload, when
from dke_geo.ui.session import t
from dke_geo.ui.widgets import message_once, plain


def map_layer(walk: Walk) -> folium.FeatureGroup:
    """The follow-up items of `walk` as a layer for its map (empty when they cannot be read)."""
    try:
        items = svc.follow_up_items(session.context(), session.actor(), walk.id)
    except DkeError:
        return folium.FeatureGroup(name=t("fixes.map.layer"))
    return follow_up_layer(items.fixes, items.findings, session.lang())


def panel(walk: Walk) -> None:
    """The follow-up section of a walk: what to check in its areas, and the two verdicts for each."""
    try:
        items = svc.follow_up_items(session.context(), session.actor(), walk.id)
    except DkeError as exc:
        st.error(exc.message(session.lang()))
        return
    with st.container(border=True, key="fixes_fu_panel"):
        st.subheader(t("fixes.followup.title", fixes=len(items.fixes), findings=items.open_total))
        message_once("fixes_fu_flash")
        _answers(walk)
        if items.fixes.empty and items.findings.empty:
            st.caption(t("fixes.followup.nothing"))
            return
        st.caption(t("fixes.followup.intro"))
        # folded: on the recording page the walk's own findings come first, this list is for when there is time
        with st.expander(t("fixes.followup.show"), key="fixes_fu_list"):
            if len(items.fixes):
                st.markdown(f"**{t('fixes.followup.fixes')}**")
            for row in items.fixes.itertuples():
                _fix_card(walk, row)
            if len(items.findings):
                st.markdown(f"**{t('fixes.followup.findings')}**")
                if items.open_total > len(items.findings):
                    st.caption(t("fixes.followup.most_serious", shown=len(items.findings), total=items.open_total))
                _finding_card(walk, items.findings)


def _answers(walk: Walk) -> None:
    """What residents answered about the walk's areas ("Er det stadig et problem?"), before checking them."""
    try:
        found = answers.for_walk(session.context(), session.actor(), walk.id)
    except DkeError as exc:
        st.error(exc.message(session.lang()))
        return
    answers_table(found)


def _fix_card(walk: Walk, row) -> None:
    seen = st.session_state.setdefault(f"fixes_fu_seen_{row.id}", int(row.version))
    with st.container(border=True, key=f"fixes_fu_fix_{row.id}"):
        st.markdown(f"🛠️ **{plain(row.title)}**")
        org = organisations.label(row.organisation, session.lang()) if row.organisation else ""
        st.caption(" · ".join(p for p in (plain(org), t("fixes.followup.done_on", date=when(row.done_at))) if p))
        verdict, comment, photo = _verdict_form(f"fixes_fu_form_{row.id}", still=True)
        if verdict:
            _submit(verdict, f"fixes_fu_seen_{row.id}", svc.follow_up, walk.id, row.id, seen, verdict, comment,
                    upload(photo))


def _finding_labels(findings: pd.DataFrame) -> dict:
    """id -> the finding's line in the list (category, severity, time), made in one pass over the rows: looked up
    row by row through the frame (`.loc`) they cost 4 ms each, a fifth of a second on every rerun of the page."""
    cats, lang = categories(), session.lang()
    return {row.id: f"{cats[row.category].icon} {cats[row.category].label(lang)} · {t(f'severity.{row.severity}')}"
                    f" · {when(row.observed_at)}" for row in findings.itertuples()}


def _finding_card(walk: Walk, findings: pd.DataFrame) -> None:
    by_id = findings.set_index("id")
    labels = _finding_labels(findings)
    chosen = st.selectbox(t("fixes.followup.choose_finding"), list(labels), key="fixes_fu_finding",
                          format_func=labels.get)
    if chosen is None:
        return
    finding = by_id.loc[chosen]
    with st.container(border=True, key="fixes_fu_finding_card"):
        if finding["internal_note"]:
            st.text(finding["internal_note"])
        if finding["proposed"]:
            st.caption(t("fixes.followup.proposed"))
        verdict, comment, photo = _verdict_form(f"fixes_fu_form_{chosen}", still=not finding["proposed"])
        if verdict:
            _submit(verdict, None, svc.follow_up_finding, walk.id, chosen, verdict, comment, upload(photo))


def _verdict_form(key: str, still: bool):
    """Comment, after photo and the verdict buttons (big, side by side); the verdict pressed, or None."""
    with st.form(key, border=False):
        comment = st.text_input(t("fixes.followup.comment"), max_chars=4000, key=f"{key}_comment")
        photo = st.file_uploader(t("fixes.followup.photo"), key=f"{key}_photo")  # any file: see fix_view._action
        fixed_col, still_col = st.columns(2)
        fixed = fixed_col.form_submit_button(t("fixes.followup.fixed"), icon="✅", type="primary", width="stretch")
        again = still and still_col.form_submit_button(t("fixes.followup.still"), icon="⚠️", width="stretch")
    verdict = svc.Verdict.FIXED if fixed else svc.Verdict.STILL_A_PROBLEM if again else None
    return verdict, comment, photo


def _submit(verdict: svc.Verdict, seen_key: str | None, action, *args) -> None:
    """Call the service `action`; on success note it, forget the version seen and show the panel anew."""
    try:
        action(session.context(), session.actor(), *args)
    except DkeError as exc:
        st.error(exc.message(session.lang()))
        return
    st.session_state["fixes_fu_flash"] = t("fixes.followup.saved_fixed" if verdict == svc.Verdict.FIXED
                                           else "fixes.followup.saved_still")
    if seen_key:
        st.session_state.pop(seen_key, None)
    st.rerun()
