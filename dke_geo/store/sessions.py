"""Login sessions in the database: one row per login, found by the SHA-256 of the browser's token (the token
itself is never stored), so that a session can be ended on the server for every copy of its cookie."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from dke_geo.store.tables import sessions, users


def add(conn: Connection, session_id: str, user_name: str, method: str, created_at: datetime,
        expires_at: datetime) -> None:
    conn.execute(insert(sessions).values(id=session_id, user_name=user_name, method=method, created_at=created_at,
                                         expires_at=expires_at, last_seen_at=created_at))


def exists(conn: Connection, session_id: str) -> bool:
    return conn.execute(select(sessions.c.id).where(sessions.c.id == session_id)).first() is not None


def get_with_account(conn: Connection, session_id: str):
    """The session with its account's current role and state in one indexed read (`role` is None when the account
    is gone), or None for an unknown id."""
    return conn.execute(
        select(sessions.c.user_name, sessions.c.method, sessions.c.expires_at, sessions.c.last_seen_at,
               sessions.c.revoked_at, sessions.c.revoked_reason, users.c.role, users.c.active)
        .select_from(sessions.outerjoin(users, users.c.name == sessions.c.user_name))
        .where(sessions.c.id == session_id)).first()


def seen(conn: Connection, session_id: str, at: datetime) -> None:
    conn.execute(update(sessions).where(sessions.c.id == session_id).values(last_seen_at=at))


def revoke(conn: Connection, session_id: str, at: datetime, reason: str) -> int:
    """End one session (a logout); one already ended keeps its first reason."""
    return conn.execute(update(sessions).where(sessions.c.id == session_id, sessions.c.revoked_at.is_(None))
                        .values(revoked_at=at, revoked_reason=reason)).rowcount


def revoke_user(conn: Connection, user_name: str, at: datetime, reason: str) -> int:
    """End every open session of an account (removed, new password)."""
    return conn.execute(update(sessions).where(sessions.c.user_name == user_name, sessions.c.revoked_at.is_(None))
                        .values(revoked_at=at, revoked_reason=reason)).rowcount
