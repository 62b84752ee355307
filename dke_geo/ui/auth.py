"""Who is logged in: the municipality's OpenID Connect login (`st.login`) when `[auth]` is configured in
.streamlit/secrets.toml, else local accounts; a local login survives a page reload through a signed,
expiring cookie (dke_geo/services/sessions.py, dke_geo/ui/browser.py)."""
from __future__ import annotations

import streamlit as st

from dke_geo.errors import DkeError
from dke_geo.services import sessions
from dke_geo.services import users as user_service
from dke_geo.ui import browser, session
from dke_geo.ui.session import t

_TOKEN_STATE = "auth_token"  # noqa: S105 (a session-state key, not a secret); the current local login's token (set in the browser's cookie)
_LOGGED_OUT = "auth_logged_out"  # this browser session logged out: do not restore from the old cookie


def oidc_configured() -> bool:
    """True when .streamlit/secrets.toml has an [auth] section (the municipality's OpenID Connect login)."""
    return st.secrets.load_if_toml_exists() and "auth" in st.secrets


def _oidc_logged_in() -> bool:
    return bool(st.user.get("is_logged_in", False))


def restore() -> None:
    """At the start of every run: take the login from OpenID Connect, or from a local login's cookie after a
    reload. A refused e-mail is kept for the login box to explain."""
    if session.actor().name or st.session_state.get(_LOGGED_OUT):
        return
    if oidc_configured():
        if _oidc_logged_in():
            try:
                session.set_actor(user_service.actor_for_email(session.context(), str(st.user.get("email") or "")))
            except DkeError as exc:
                st.session_state["auth_error"] = exc
        return
    token = st.context.cookies.get(sessions.COOKIE)
    actor = sessions.actor_for_token(session.context(), token) if token else None
    if actor is not None:
        session.set_actor(actor)
        st.session_state[_TOKEN_STATE] = token


def _logout() -> None:
    session.set_actor(None)
    st.session_state.pop(_TOKEN_STATE, None)
    st.session_state[_LOGGED_OUT] = True
    if oidc_configured() and _oidc_logged_in():
        st.logout()  # sends the browser to the provider's logout and back: a rerun here could race that redirect
        return
    st.rerun()


def login_box() -> None:
    """Who is logged in with a log-out button; else the login (municipality account or local form)."""
    actor = session.actor()
    browser.login_cookie(st.session_state.get(_TOKEN_STATE) if actor.name else None)
    if actor.name:
        st.caption(t("login.as", name=actor.name, role=t(f"role.{actor.role.value}")))
        if st.button(t("login.logout"), key="logout"):
            _logout()
        return
    if oidc_configured():
        st.caption(t("auth.sso_only"))
        if "auth_error" in st.session_state:
            st.error(st.session_state.pop("auth_error").message(session.lang()))
            if _oidc_logged_in():
                st.button(t("login.logout"), key="logout_refused", on_click=st.logout)
        elif st.button(t("login.sso"), key="login_sso", width="stretch"):
            st.session_state.pop(_LOGGED_OUT, None)
            st.login()
        return
    with st.form("login", border=True):
        st.markdown(f"**{t('login.title')}**")
        name = st.text_input(t("login.name"), key="login_name")
        password = st.text_input(t("login.password"), type="password", key="login_password")
        if st.form_submit_button(t("login.submit"), width="stretch"):
            try:
                actor = user_service.authenticate(session.context(), name, password)
            except DkeError as exc:
                st.error(exc.message(session.lang()))
            else:
                session.set_actor(actor)
                st.session_state[_TOKEN_STATE] = sessions.issue(session.context(), actor)
                st.session_state.pop(_LOGGED_OUT, None)
                st.rerun()
