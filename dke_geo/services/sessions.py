"""Login sessions that the server can end: every login (a local password or the municipality's OpenID Connect)
is a row in `sessions`, and every script run of every tab checks its row again.

A local login gives the browser a random token (32 bytes from `secrets`) in a cookie (dke_geo/ui/browser.py);
the row is keyed by the token's SHA-256, so the database never holds a token that would log anyone in. An
OpenID Connect login is kept by Streamlit's own signed cookie; its row is keyed by the login itself (issuer,
subject, issued-at and nonce of the provider's ID token), so every copy of that cookie finds the same row.

`resume` is the check made at every interaction: one indexed read of the session joined with its account. It
refuses a session that expired (LIFETIME after the login), was ended (logout, the account removed, its password
changed) or whose account is gone, and otherwise returns the account's role as it is now, never as it was at
login. So a logout, a removal or a new password ends every open tab and every copied cookie at its next
interaction, and a new role applies at the next interaction.
"""
from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from dke_geo.context import AppContext
from dke_geo.errors import DkeError
from dke_geo.model import now
from dke_geo.roles import Actor, Role
from dke_geo.services import users as user_service
from dke_geo.store import sessions as session_store
from dke_geo.store.db import reading, transaction

LIFETIME = timedelta(hours=12)  # a working day or an evening walk; then the password again
SEEN_EVERY = timedelta(minutes=5)
"""How stale `last_seen_at` may get before a check writes it again: the check stays a read on most clicks."""
COOKIE = "dke_geo_session"
REASONS = ("logout", "removed", "password", "expired", "unknown")
"""Why a session ended, each with its message `login.ended.<reason>`: logged out (in this or another tab or
browser), the account removed, its password changed, the session's time ran out, a token the server does not
know (forged, or from before an upgrade)."""


class SessionEnded(DkeError):
    """The tab's session is over; the message says why (one of REASONS)."""

    def __init__(self, reason: str):
        super().__init__(f"login.ended.{reason}", hours=int(LIFETIME.total_seconds() // 3600))
        self.reason = reason


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(ctx: AppContext, actor: Actor) -> str:
    """A new session for `actor`, who has just given the right password; returns the token for the cookie."""
    token = secrets.token_urlsafe(32)
    at = now()
    with transaction(ctx.engine, changes_data=False) as conn:
        session_store.add(conn, _digest(token), actor.name, "password", at, at + LIFETIME)
    return token


def start_oidc(ctx: AppContext, claims: Mapping) -> str:
    """The session of an OpenID Connect login (Streamlit's `st.user`: the provider's ID token claims), made the
    first time it is seen; returns its token. The account comes from the verified e-mail (LoginRefused for an
    e-mail without one). A login older than LIFETIME gets no session (SessionEnded "expired"), so Streamlit's
    30-day cookie cannot outlive ours."""
    issued = claims.get("iat")
    if not isinstance(issued, int | float) or not claims.get("sub"):
        raise SessionEnded("unknown")
    issued_at = datetime.fromtimestamp(issued, UTC)
    if now() - issued_at >= LIFETIME:
        raise SessionEnded("expired")
    token = "oidc:" + json.dumps([claims.get("iss"), claims.get("sub"), issued, claims.get("nonce")])
    with reading(ctx.engine) as conn:
        known = session_store.exists(conn, _digest(token))
    if not known:
        actor = user_service.actor_for_email(ctx, str(claims.get("email") or ""))
        with transaction(ctx.engine, changes_data=False) as conn:
            if not session_store.exists(conn, _digest(token)):  # another tab of the same login may have been first
                session_store.add(conn, _digest(token), actor.name, "oidc", now(), issued_at + LIFETIME)
    return token


def resume(ctx: AppContext, token: str) -> Actor:
    """The actor of a session, with the account's current role; SessionEnded (with the reason) when it is over."""
    session_id = _digest(token)
    with reading(ctx.engine) as conn:
        row = session_store.get_with_account(conn, session_id)
    at = now()
    if row is None:
        raise SessionEnded("unknown")
    if row.revoked_at is not None:
        raise SessionEnded(row.revoked_reason if row.revoked_reason in REASONS else "logout")
    if row.role is None or not row.active:
        raise SessionEnded("removed")
    if at >= row.expires_at:
        raise SessionEnded("expired")
    if at - row.last_seen_at >= SEEN_EVERY:
        with transaction(ctx.engine, changes_data=False) as conn:
            session_store.seen(conn, session_id, at)
    return Actor(row.user_name, Role(row.role))


def end(ctx: AppContext, token: str) -> None:
    """Log out: the session ends for this tab, every other tab and every copy of its cookie."""
    with transaction(ctx.engine, changes_data=False) as conn:
        session_store.revoke(conn, _digest(token), now(), "logout")
