"""Who is logged in: the municipality's OpenID Connect login (`st.login`) when `[auth]` is configured in
.streamlit/secrets.toml, else local accounts. Either way the tab holds a session (dke_geo/services/sessions.py)
that is checked again at every script run, so a logout elsewhere, a removed account or a new password logs the
tab out at its next interaction, and a new role applies then; a local login survives a page reload through a
cookie holding the session's token (dke_geo/ui/browser.py)."""
from __future__ import annotations

import streamlit as st

from dke_geo.errors import DkeError
from dke_geo.services import sessions
from dke_geo.services import users as user_service
from dke_geo.ui import browser, session
from dke_geo.ui.session import t

SESSION = "auth_session"  # this tab's session token (a local login's is also in the browser's cookie)
_COOKIE_READ = "auth_cookie_read"  # the cookie was looked at: Streamlit reads cookies once, when the tab connects
_ENDED = "auth_ended"  # why this tab's session ended: said on every page until the next login


def oidc_configured() -> bool:
    """True when .streamlit/secrets.toml has an [auth] section (the municipality's OpenID Connect login)."""
    return st.secrets.load_if_toml_exists() and "auth" in st.secrets


def _oidc_logged_in() -> bool:
    return bool(st.user.get("is_logged_in", False))


def _found_token() -> str | None:
    """A session this tab does not hold yet: the provider's login (OpenID Connect) or, once after the tab
    connects, the cookie of a local login (a reload). A refused e-mail is kept for the login box to explain."""
    if oidc_configured():
        if not _oidc_logged_in():
            return None
        try:
            return sessions.start_oidc(session.context(), st.user.to_dict())
        except user_service.LoginRefused as exc:  # an e-mail without an account
            st.session_state["auth_error"] = exc
            return None
    if st.session_state.get(_COOKIE_READ):
        return None
    st.session_state[_COOKIE_READ] = True
    return _text(st.context.cookies.get(sessions.COOKIE))


def _text(value: object) -> str | None:
    """A value of the browser's request (a cookie, a header, the address) as text, or None when it has none (or
    runs without a browser, as in AppTest)."""
    return value if isinstance(value, str) and value else None


def restore() -> None:
    """At the start of every run: the tab's session checked against the database, and the actor with the
    account's role as it is now. A session that ended logs the tab out with a message saying why (on every page
    until the next login); a changed role is announced. When the database cannot be reached the check raises (the
    caller says so) and the tab keeps its actor for that run: every service needs the database as well, and the
    recording page keeps its unsaved form until the database is back."""
    before = session.actor()
    try:
        token = st.session_state.get(SESSION) or _found_token()
        actor = sessions.resume(session.context(), token) if token else None
    except sessions.SessionEnded as ended:
        session.set_actor(None)
        st.session_state.pop(SESSION, None)
        # kept, not shown once: the run that found it may be cut short by the user's next click (a page switch
        # while the page is still drawn), and the reason would be lost with it
        st.session_state[_ENDED] = ended
        actor = None
    if actor is None:
        session.set_actor(None)
        if _ENDED in st.session_state:
            st.warning(st.session_state[_ENDED].message(session.lang()))
        return
    session.set_actor(actor)
    st.session_state.pop(_ENDED, None)
    st.session_state[SESSION] = token
    if before.name == actor.name and before.role != actor.role:
        st.info(t("login.role_changed", role=t(f"role.{actor.role.value}")))


def _logout() -> None:
    token = st.session_state.pop(SESSION, None)
    if token:
        sessions.end(session.context(), token)
    session.set_actor(None)
    if oidc_configured() and _oidc_logged_in():
        st.logout()  # sends the browser to the provider's logout and back: a rerun here could race that redirect
        return
    st.rerun()


def _login(name: str, password: str) -> None:
    """Check a local name and password (limited per name and per client) and start the tab's session."""
    ctx = session.context()
    client = user_service.login_client(_text(st.context.ip_address), _text(st.context.headers.get("X-Forwarded-For")),
                                       int(ctx.settings["DKE_GEO_TRUSTED_PROXIES"]))
    actor = user_service.authenticate(ctx, name, password, client)
    st.session_state[SESSION] = sessions.start(ctx, actor)
    session.set_actor(actor)


def login_box() -> None:
    """Who is logged in with a log-out button; else the login (municipality account or local form)."""
    actor = session.actor()
    oidc = oidc_configured()
    browser.login_cookie(st.session_state.get(SESSION) if actor.name and not oidc else None)
    if actor.name:
        st.caption(t("login.as", name=actor.name, role=t(f"role.{actor.role.value}")))
        if st.button(t("login.logout"), key="logout"):
            _logout()
        return
    if oidc:
        st.caption(t("auth.sso_only"))
        if "auth_error" in st.session_state:
            st.error(st.session_state.pop("auth_error").message(session.lang()))
            if _oidc_logged_in():
                st.button(t("login.logout"), key="logout_refused", on_click=st.logout)
        elif st.button(t("login.sso"), key="login_sso", width="stretch"):
            st.login()
        return
    with st.form("login", border=True):
        st.markdown(f"**{t('login.title')}**")
        name = st.text_input(t("login.name"), key="login_name")
        password = st.text_input(t("login.password"), type="password", key="login_password")
        if st.form_submit_button(t("login.submit"), width="stretch"):
            try:
                _login(name, password)
            except DkeError as exc:
                st.error(exc.message(session.lang()))
            else:
                st.rerun()
