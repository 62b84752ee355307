"""Walks in the database."""
from __future__ import annotations

from datetime import datetime
from uuid import UUID

import pandas as pd
from sqlalchemy import Connection, func, select, update

from dke_geo.model import Walk
from dke_geo.store.db import insert_ignoring_duplicates
from dke_geo.store.tables import observations, walks

STORED = {"stored": True}  # validation context: a walk as stored keeps an organisation id since removed from the list


def _row(walk: Walk) -> dict:
    data = walk.model_dump(mode="python")
    data["id"] = str(walk.id)
    data["organisations"] = [o.model_dump(exclude_none=True) for o in walk.organisations]
    data["light_condition"] = walk.light_condition.value
    data["light_condition_override"] = walk.light_condition_override and walk.light_condition_override.value
    data["kind"] = walk.kind.value
    return data


def _walk(row) -> Walk:
    data = dict(row._mapping)
    data.pop("light_condition")
    return Walk.model_validate(data, context=STORED)


def add(conn: Connection, walk: Walk) -> bool:
    """Store `walk`; False if a walk with its id was already there (nothing changed)."""
    return insert_ignoring_duplicates(conn, walks, [_row(walk)]) == 1


def update_walk(conn: Connection, walk: Walk) -> None:
    conn.execute(update(walks).where(walks.c.id == str(walk.id)).values(_row(walk)))


def get(conn: Connection, walk_id: UUID | str) -> Walk | None:
    row = conn.execute(select(walks).where(walks.c.id == str(walk_id))).first()
    return _walk(row) if row else None


def recent(conn: Connection, limit: int = 50, include_demo: bool = True) -> list[tuple[Walk, int]]:
    """The newest walks with their number of (not deleted) findings."""
    counts = (select(observations.c.walk_id, func.count().label("n"))
              .where(observations.c.deleted.is_(False)).group_by(observations.c.walk_id).subquery())
    query = (select(walks, func.coalesce(counts.c.n, 0).label("n_obs"))
             .outerjoin(counts, counts.c.walk_id == walks.c.id)
             .order_by(walks.c.started_at.desc()).limit(limit))
    if not include_demo:
        query = query.where(walks.c.is_demo.is_(False))
    out = []
    for row in conn.execute(query):
        data = dict(row._mapping)
        n = data.pop("n_obs")
        data.pop("light_condition")
        out.append((Walk.model_validate(data, context=STORED), n))
    return out


def frame(conn: Connection) -> pd.DataFrame:
    """Every walk as a row of id, title, started_at, is_demo; newest first (what filters and maps label)."""
    rows = conn.execute(select(walks.c.id, walks.c.title, walks.c.started_at, walks.c.is_demo)
                        .order_by(walks.c.started_at.desc()))
    return pd.DataFrame(rows.fetchall(), columns=["id", "title", "started_at", "is_demo"])


def rows(conn: Connection) -> pd.DataFrame:
    """Every walk with all its stored columns (for an export)."""
    return pd.DataFrame([dict(r._mapping) for r in conn.execute(select(walks))],
                        columns=[c.name for c in walks.columns])


def ids(conn: Connection) -> set[str]:
    return set(conn.execute(select(walks.c.id)).scalars())


def started_between(conn: Connection, start: datetime, end: datetime) -> list[Walk]:
    """The walks started in [start, end), oldest first."""
    return [_walk(r) for r in conn.execute(select(walks).where(walks.c.started_at >= start,
                                                               walks.c.started_at < end)
                                           .order_by(walks.c.started_at))]


def count(conn: Connection) -> int:
    return conn.execute(select(func.count()).select_from(walks)).scalar_one()
