"""The administrator's part of telling the organisations (on the admin page): the outbox with its failures and a
resend, and the organisations' contacts with an override. Each action is one call to
dke_geo/services/notifications.py, which checks the role. Session keys start with `admin_outbox_`/`admin_contact_`."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from dke_geo import organisations
from dke_geo.errors import DkeError
from dke_geo.i18n import LANGUAGES
from dke_geo.services import notifications
from dke_geo.ui import session
from dke_geo.ui.fix_view import messages_table, when
from dke_geo.ui.session import t
from dke_geo.ui.widgets import message_once, plain


def _done(message: str) -> None:
    st.session_state["admin_outbox_flash"] = message
    st.rerun()


def outbox() -> None:
    """The newest messages (or only the failing ones), and a resend of the one chosen."""
    ctx, actor, lang = session.context(), session.actor(), session.lang()
    st.subheader(t("admin.outbox.title"))
    message_once("admin_outbox_flash")
    if not ctx.settings.smtp_configured:
        st.warning(t("admin.outbox.not_configured"))
    failed_only = st.toggle(t("admin.outbox.failed_only"), key="admin_outbox_failed")
    table = notifications.outbox(ctx, actor, failed_only=failed_only)
    if table.empty:
        st.caption(t("admin.outbox.none"))
        return
    messages_table(table, lang, detail=True)
    done = table[table["state"].isin(["sent", "failed"])].set_index("id")
    if done.empty:
        return

    def label(message_id: str) -> str:
        row = done.loc[message_id]
        state = t(f"notify.state.{row['state']}")
        return f"{when(row['created_at'])} · {state} · {row['subject']}"

    chosen = st.selectbox(t("admin.outbox.pick"), list(done.index), index=None, key="admin_outbox_message",
                          format_func=label)
    if st.button(t("admin.outbox.resend"), key="admin_outbox_resend", disabled=chosen is None):
        try:
            notifications.resend(ctx, actor, chosen)
        except DkeError as exc:
            st.error(exc.message(lang))
        else:
            _done(t("admin.outbox.resent"))


def contacts() -> None:
    """Every organisation's contact as messages use it, and a form to override one (or go back to the file's)."""
    ctx, actor, lang = session.context(), session.actor(), session.lang()
    st.subheader(t("admin.contacts.title"))
    st.caption(t("admin.contacts.intro"))
    listed = notifications.contacts(ctx, actor)
    st.dataframe(pd.DataFrame({
        t("fixes.messages.col.to"): [organisations.label(c.organisation, lang) for c in listed],
        t("admin.col.email"): [c.email for c in listed],
        t("admin.contacts.language"): [c.language.upper() for c in listed],
        t("admin.contacts.changed"): [f"{c.overridden_by} · {when(c.overridden_at)}" if c.overridden_by else ""
                                      for c in listed],
    }), hide_index=True, width="stretch")
    by_id = {c.organisation: c for c in listed}
    with st.form("admin_contact"):
        org = st.selectbox(t("fixes.messages.col.to"), list(by_id), key="admin_contact_org",
                           format_func=lambda o: organisations.label(o, lang))
        email = st.text_input(t("admin.contacts.email"), key="admin_contact_email")
        language = st.selectbox(t("admin.contacts.language"), LANGUAGES, key="admin_contact_lang",
                                format_func=str.upper)
        if st.form_submit_button(t("admin.contacts.save")):
            try:
                notifications.set_contact(ctx, actor, org, email, language)
            except DkeError as exc:
                st.error(exc.message(lang))
            else:
                _done(t("admin.contacts.saved", organisation=plain(organisations.label(org, lang))))
