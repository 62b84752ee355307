"""The report-back page of a signed link from a message (no login; the app shows nothing else here): the fix as
the message showed it, in the organisation's language, and a form to report it in progress or done with a
comment and an after photo. A link that does not work says why. Session keys start with `reportback_`."""
import streamlit as st

from dke_geo import messages, organisations
from dke_geo.categories import categories
from dke_geo.errors import Conflict, DkeError
from dke_geo.i18n import t
from dke_geo.model import now
from dke_geo.photos import ACCEPTED_TYPES
from dke_geo.services import fixes as fix_service
from dke_geo.services import report_back
from dke_geo.ui import session
from dke_geo.ui.fix_view import upload
from dke_geo.ui.widgets import message_once, plain

ctx, token, client = session.context(), st.query_params.get("t", ""), st.context.ip_address or ""
lang = session.lang()
st.title(t("reportback.title", lang))
try:
    view = report_back.open_link(ctx, token, client)
except DkeError as exc:
    st.error(exc.message(lang))
    st.stop()
lang = view.language
fix = view.fix
seen = st.session_state.get("reportback_seen", view.version)  # a report is checked against the version last shown
submitted = False
st.caption(t("reportback.intro", lang, organisation=plain(organisations.label(view.organisation, lang))))
message_once("reportback_flash")

st.header(plain(fix.title))
if fix.description:
    st.text(fix.description)
facts = st.columns(2)
facts[0].markdown(f"**{t('notify.label.state', lang)}**  \n{t(f'fixes.state.{fix.state}', lang)}")
due = messages.day(fix.due_date, lang)
if overdue := fix.days_overdue(now().date()):
    due += f" ({t('notify.label.overdue_days', lang, days=overdue)})"
facts[1].markdown(f"**{t('notify.label.due', lang)}**  \n{plain(due)}")
cats = categories()
st.markdown(f"**{t('notify.label.where', lang)}**")
st.markdown("\n".join(f"- {plain(p.area)}: {plain(cats[p.category].label(lang) if p.category in cats else p.category)}"
                      f" ({p.lat:.5f}, {p.lon:.5f})" for p in fix.places))
if view.photos:
    st.markdown(f"**{t('reportback.photos', lang)}**")
    columns = st.columns(3)
    for number, data in enumerate(view.photos):
        columns[number % 3].image(data)

if view.closed:
    st.info(t("reportback.closed", lang, state=t(f"fixes.state.{fix.state}", lang)))
elif not view.targets:
    st.info(t("reportback.waiting", lang))
else:
    with st.form("reportback_form", border=True):
        target = st.radio(t("reportback.form.target", lang), list(view.targets), horizontal=True,
                          format_func=lambda s: t(f"fixes.state.{s}", lang), key="reportback_target")
        comment = st.text_area(t("reportback.form.comment", lang), max_chars=4000, key="reportback_comment")
        photo = st.file_uploader(t("reportback.form.photo", lang), type=ACCEPTED_TYPES, key="reportback_photo")
        submitted = st.form_submit_button(t("reportback.form.submit", lang), type="primary")
    if submitted:
        try:
            moved = fix_service.report_via_link(ctx, token, seen, target, comment, upload(photo), client)
        except DkeError as exc:
            st.error(exc.message(lang))
            if isinstance(exc, Conflict):
                st.button(t("fixes.action.reload", lang), key="reportback_reload")
                submitted = False  # the page shows the fix as it is now: a report checks against that
        else:
            st.session_state["reportback_seen"] = moved.version
            st.session_state["reportback_flash"] = t("reportback.saved", lang,
                                                     state=t(f"fixes.state.{moved.state}", lang))
            for key in ("reportback_comment", "reportback_photo"):  # the report is in: an empty form again
                st.session_state.pop(key, None)
            st.rerun()
if not submitted:
    st.session_state["reportback_seen"] = view.version
