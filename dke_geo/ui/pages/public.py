"""The residents' public map (no login): what an area walk is, the published findings on a map with the same findings
as a list beside it (one document in a frame: ui/public_frame.py), density by area, approved photos, and "Er det
stadig et problem?" for findings something is planned or done about. Everything comes from the public view
(services/public.py, a whitelist), the same data as the static site; user texts are shown as plain text. Session
keys start with `public_`."""
import time

import pandas as pd
import streamlit as st

from dke_geo.errors import DkeError
from dke_geo.services import answers
from dke_geo.ui import navigation, public_frame, public_page, session
from dke_geo.ui.session import t


def _asked() -> None:
    """A resident pressed "Er det stadig et problem?" in the map or the list: go to the form (see public_frame)."""
    st.session_state["public_focus"] = str(time.monotonic())


def _answer_form(findings, chosen: str | None) -> None:
    """The answer form: which finding (preselected from the map or list), yes or no, an optional short text."""
    if st.session_state.get("public_answer_sent"):
        st.success(t("answers.thanks"))
        # an empty form for the next answer: the same widgets emptied (new ones, under new keys, would stand beside
        # the old ones on the page until the run ends; on a busy server a screen reader meets two forms)
        st.session_state["public_answer_still"] = None
        st.session_state["public_answer_text"] = ""
        st.session_state.pop("public_answer_sent")  # once thanked (widgets.message_once says why in this order)
    with st.container(key="public_answer"):
        st.subheader(t("answers.question"))
        st.write(t("answers.intro"))
        by_key = {f.key: f for f in findings if f.answerable}
        if not by_key:
            st.info(t("answers.none"))
            return
        if chosen in by_key:
            st.session_state["public_answer_finding"] = chosen
        with st.form("public_answer_form"):
            key = st.selectbox(t("answers.finding"), list(by_key), key="public_answer_finding",
                               format_func=lambda k: " · ".join((f"{by_key[k].icon} {by_key[k].category_label}",
                                                                 by_key[k].area, by_key[k].month, by_key[k].status)))
            still = st.radio(t("answers.question"), [t("answers.yes"), t("answers.no")], index=None,
                             key="public_answer_still")
            text = st.text_area(t("answers.text"), max_chars=500, key="public_answer_text")
            sent = st.form_submit_button(t("answers.send"), type="primary")
    if not sent:
        return
    if still is None:
        st.error(t("answers.choose"))
        return
    try:
        answers.answer(ctx, st.context.ip_address or "local", key, still == t("answers.yes"), text)
    except DkeError as exc:
        st.error(exc.message(lang))  # the form keeps what was typed
        return
    st.session_state["public_answer_sent"] = True
    st.rerun()


ctx = session.context()
lang = session.lang()
page = public_page.page(ctx, lang)
view = page.view

navigation.login_link()  # staff log in from here; residents see no form
st.title(t("public.title"))
st.caption(t("public.from"))
st.write(t("public.what_is_a_walk"))
st.write(t("public.count", n=len(view.findings)) if view.findings else t("public.empty"))
chosen = public_frame.show(page, t("public.map.frame"), focus=st.session_state.get("public_focus"),
                           on_answer=_asked)
_answer_form(view.findings, chosen)

st.subheader(t("public.density"))
st.table(pd.DataFrame({t("public.col.area"): [d.name for d in view.density],
                       t("public.col.findings"): [d.findings for d in view.density],
                       t("public.col.per_km2"): [d.per_km2 for d in view.density]}).set_index(t("public.col.area")))

with_photos = [f for f in view.findings if f.photos]
if with_photos:
    st.subheader(t("public.photos"))
    columns = st.columns(3)
    for i, (finding, photo) in enumerate((f, p) for f in with_photos for p in f.photos):
        with columns[i % 3]:
            caption = t("public.photo_caption", category=finding.category_label, area=finding.area, month=finding.month)
            st.image(photo.data, caption=caption)
            st.text(finding.text)
st.page_link("dke_geo/ui/pages/accessibility.py", label=t("public.statement_link"), icon="♿")
