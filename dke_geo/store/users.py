"""User accounts and login attempts in the database."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, func, insert, select, update

from dke_geo.store.tables import login_attempts, users


def add(conn: Connection, name: str, role: str, password_hash: str | None, email: str | None, created_at: datetime,
        is_demo: bool = False) -> None:
    conn.execute(insert(users).values(name=name, role=role, password_hash=password_hash, email=email,
                                      created_at=created_at, is_demo=is_demo, active=True))


def get(conn: Connection, name: str):
    return conn.execute(select(users).where(users.c.name == name)).first()


def get_by_email(conn: Connection, email: str):
    return conn.execute(select(users).where(func.lower(users.c.email) == email.lower())).first()


def all_users(conn: Connection) -> list:
    return conn.execute(select(users).order_by(users.c.name)).fetchall()


def set_role(conn: Connection, name: str, role: str) -> int:
    return conn.execute(update(users).where(users.c.name == name).values(role=role)).rowcount


def set_password_hash(conn: Connection, name: str, password_hash: str) -> None:
    conn.execute(update(users).where(users.c.name == name).values(password_hash=password_hash))


def remove(conn: Connection, name: str) -> int:
    return conn.execute(delete(users).where(users.c.name == name)).rowcount


def record_attempt(conn: Connection, name: str, client: str, at: datetime, success: bool) -> int:
    """Record a login attempt; returns its id (a login records a failure first and confirms it after checking the
    password, see services/users.authenticate)."""
    return conn.execute(insert(login_attempts).values(name=name, client=client, at=at, success=success)
                        .returning(login_attempts.c.id)).scalar_one()


def confirm_attempt(conn: Connection, attempt_id: int) -> None:
    """Mark a recorded attempt as the correct password."""
    conn.execute(update(login_attempts).where(login_attempts.c.id == attempt_id).values(success=True))


def failures_since(conn: Connection, name: str, since: datetime) -> int:
    return conn.execute(select(func.count()).select_from(login_attempts).where(
        login_attempts.c.name == name, login_attempts.c.success.is_(False), login_attempts.c.at >= since)).scalar_one()


def client_failures_since(conn: Connection, client: str, since: datetime) -> int:
    return conn.execute(select(func.count()).select_from(login_attempts).where(
        login_attempts.c.client == client, login_attempts.c.success.is_(False),
        login_attempts.c.at >= since)).scalar_one()


def count(conn: Connection) -> int:
    return conn.execute(select(func.count()).select_from(users)).scalar_one()
