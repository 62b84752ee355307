"""Login sessions that the server can end, on SQLite and PostGIS: a random token whose hash alone is stored, the
role read again at every check, and logout, removal, a new password and the session's time ending it for every
copy of the token. The same for a login through OpenID Connect. (In the running app and the browser:
tests/e2e/test_sessions.py.)"""
import hashlib
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from dke_geo.i18n import LANGUAGES
from dke_geo.model import now
from dke_geo.roles import SYSTEM, Actor, Role
from dke_geo.services import sessions
from dke_geo.services import users as user_service
from dke_geo.services.sessions import SessionEnded
from dke_geo.services.users import LoginRefused
from dke_geo.store.db import reading, transaction
from dke_geo.store.tables import sessions as session_table

PASSWORD = "lang-nok-kode-2017"
ANNA = Actor("anna", Role.PLANNER)


@pytest.fixture
def anna(ctx):
    user_service.add_user(ctx, SYSTEM, "anna", Role.PLANNER, PASSWORD, email="anna@albertslund.dk")
    return ctx


def _rows(ctx) -> list:
    with reading(ctx.engine) as conn:
        return conn.execute(select(session_table)).fetchall()


def _ended(ctx, token: str) -> str:
    with pytest.raises(SessionEnded) as ended:
        sessions.resume(ctx, token)
    return ended.value.reason


def test_a_login_is_a_random_token_of_which_the_server_keeps_only_the_hash(anna):
    token = sessions.start(anna, user_service.authenticate(anna, "anna", PASSWORD))
    other = sessions.start(anna, ANNA)
    assert token != other and len(token) >= 40
    rows = {r.id: r for r in _rows(anna)}
    row = rows[hashlib.sha256(token.encode()).hexdigest()]
    assert not any(t in str(tuple(r)) for r in rows.values() for t in (token, other))
    assert (row.user_name, row.method, row.revoked_at) == ("anna", "password", None)
    assert row.expires_at - row.created_at == sessions.LIFETIME
    assert sessions.resume(anna, token) == ANNA


def test_every_check_reads_the_role_as_it_is_now(anna):
    token = sessions.start(anna, ANNA)
    user_service.set_role(anna, SYSTEM, "anna", Role.STAFF)
    assert sessions.resume(anna, token) == Actor("anna", Role.STAFF)


def test_logout_ends_the_session_for_every_copy_of_the_token_and_no_other(anna):
    token, other = sessions.start(anna, ANNA), sessions.start(anna, ANNA)  # a tablet and a desktop
    sessions.end(anna, token)
    assert _ended(anna, token) == "logout"
    assert sessions.resume(anna, other) == ANNA


@pytest.mark.parametrize(("change", "reason"), [
    (lambda ctx: user_service.remove_user(ctx, SYSTEM, "anna"), "removed"),
    (lambda ctx: user_service.set_password(ctx, SYSTEM, "anna", "en-helt-ny-kode-42"), "password"),
])
def test_removal_or_a_new_password_ends_every_session_of_the_account(anna, change, reason):
    tokens = [sessions.start(anna, ANNA) for _ in range(2)]
    change(anna)
    assert [_ended(anna, t) for t in tokens] == [reason, reason]
    if reason == "removed":  # an account made again under the same name does not bring the old sessions back
        user_service.add_user(anna, SYSTEM, "anna", Role.ADMIN, PASSWORD)
    assert [_ended(anna, t) for t in tokens] == [reason, reason]


def test_an_expired_or_unknown_token_is_refused(anna):
    token = sessions.start(anna, ANNA)
    with transaction(anna.engine) as conn:
        conn.execute(update(session_table).values(expires_at=now() - timedelta(seconds=1)))
    assert _ended(anna, token) == "expired"
    assert _ended(anna, "not-a-token") == "unknown"


def test_checks_leave_the_data_version_alone_and_note_the_last_use_now_and_then(anna):
    """A login and the check at every interaction are not data any cache is built from: the planner's map is not
    read again because someone logged in. `last_seen_at` is written at most every SEEN_EVERY."""
    before = anna.data_version()
    token = sessions.start(anna, user_service.authenticate(anna, "anna", PASSWORD))
    first = _rows(anna)[0].last_seen_at
    sessions.resume(anna, token)
    assert _rows(anna)[0].last_seen_at == first  # a read only
    with transaction(anna.engine, changes_data=False) as conn:
        conn.execute(update(session_table).values(last_seen_at=first - sessions.SEEN_EVERY))
    sessions.resume(anna, token)
    assert _rows(anna)[0].last_seen_at > first
    assert anna.data_version() == before


def test_every_reason_has_a_message_in_both_languages():
    for reason in sessions.REASONS:
        texts = {SessionEnded(reason).message(lang) for lang in LANGUAGES}
        assert len(texts) == 2 and all(not t.startswith("login.") for t in texts), reason


# ---------------------------------------------------------------- OpenID Connect
def _claims(**changes) -> dict:
    """What st.user holds after a login: the provider's ID token claims."""
    return {"iss": "https://login.albertslund.dk", "sub": "a-1", "iat": int(time.time()), "nonce": "n1",
            "email": "Anna@Albertslund.dk", "is_logged_in": True, **changes}


def test_an_openid_connect_login_is_one_session_that_logout_ends_for_every_copy(anna):
    claims = _claims()
    token = sessions.start_oidc(anna, claims)
    assert sessions.start_oidc(anna, dict(claims)) == token  # a reload, another tab, a copied cookie: one row
    assert [(r.user_name, r.method) for r in _rows(anna)] == [("anna", "oidc")]
    assert sessions.resume(anna, token) == ANNA
    sessions.end(anna, token)
    assert _ended(anna, sessions.start_oidc(anna, claims)) == "logout"  # Streamlit's cookie alone no longer works
    again = sessions.start_oidc(anna, _claims(nonce="n2"))  # a new login at the provider
    assert sessions.resume(anna, again) == ANNA
    user_service.remove_user(anna, SYSTEM, "anna")
    assert _ended(anna, again) == "removed"


def test_an_openid_connect_login_older_than_the_lifetime_or_unknown_gets_no_session(anna):
    old = int(time.time() - sessions.LIFETIME.total_seconds() - 60)
    with pytest.raises(SessionEnded) as ended:
        sessions.start_oidc(anna, _claims(iat=old))
    assert ended.value.reason == "expired"
    with pytest.raises(LoginRefused):
        sessions.start_oidc(anna, _claims(email="fremmed@example.org"))
    assert _rows(anna) == []
