"""A user's own settings in the database: the colour theme of the recording page."""
from __future__ import annotations

from sqlalchemy import Connection, select, update

from dke_geo.store.tables import users


def theme(conn: Connection, name: str) -> str | None:
    """The user's theme, or None for no such user."""
    return conn.execute(select(users.c.theme).where(users.c.name == name)).scalar_one_or_none()


def set_theme(conn: Connection, name: str, value: str) -> int:
    """Store the user's theme; returns how many users it changed (0: no such user)."""
    return conn.execute(update(users).where(users.c.name == name).values(theme=value)).rowcount
