"""Observations (findings) in the database."""
from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

import pandas as pd
from sqlalchemy import Boolean, Connection, Float, cast, func, select, update

from dke_geo.model import TZ, Observation
from dke_geo.store.db import insert_ignoring_duplicates
from dke_geo.store.tables import observations
from dke_geo.store.types import UtcDateTime

_MODEL_ONLY = {"photos"}


def _row(obs: Observation) -> dict:
    data = obs.model_dump(mode="python", exclude=_MODEL_ONLY)
    data["id"] = str(obs.id)
    data["walk_id"] = obs.walk_id and str(obs.walk_id)
    data["location_source"] = obs.location_source.value
    data["light_condition"] = obs.light_condition.value
    return data


def to_model(row) -> Observation:
    """A database row as an Observation (no re-validation of the point: it was checked on the way in)."""
    data = {k: v for k, v in row._mapping.items() if k in Observation.model_fields}
    return Observation.model_validate(data, context={"allow_outside": True})


def add(conn: Connection, obs: Observation) -> bool:
    """Store `obs`; False if one with the same id (or external id) was already stored."""
    return insert_ignoring_duplicates(conn, observations, [_row(obs)]) == 1


def add_many(conn: Connection, items: Iterable[Observation]) -> int:
    """Store many observations in the caller's transaction; returns how many were new."""
    return insert_ignoring_duplicates(conn, observations, [_row(o) for o in items])


def replace(conn: Connection, obs: Observation) -> None:
    """Overwrite the stored observation with the same id."""
    data = _row(obs)
    data.pop("id")
    conn.execute(update(observations).where(observations.c.id == str(obs.id)).values(data))


def get(conn: Connection, obs_id: UUID | str, *, lock: bool = False) -> Observation | None:
    """The finding, or None. `lock` holds its row until the transaction ends (PostgreSQL: FOR NO KEY UPDATE;
    SQLite writers are serialised by BEGIN IMMEDIATE already), so a check-then-write on it is not raced."""
    query = select(observations).where(observations.c.id == str(obs_id))
    row = conn.execute(query.with_for_update(key_share=True) if lock else query).first()
    return to_model(row) if row else None


def for_walk(conn: Connection, walk_id: UUID | str, include_deleted: bool = False) -> list[Observation]:
    """A walk's findings, newest first."""
    query = select(observations).where(observations.c.walk_id == str(walk_id))
    if not include_deleted:
        query = query.where(observations.c.deleted.is_(False))
    return [to_model(r) for r in conn.execute(query.order_by(observations.c.observed_at.desc(),
                                                             observations.c.created_at.desc()))]


FRAME_COLUMNS = ("id", "walk_id", "lon", "lat", "area_id", "category", "severity", "perceived_safety",
                 "observed_at", "light_condition", "published", "is_demo", "location_source")


def frame(conn: Connection, columns: Iterable[str] = FRAME_COLUMNS, include_deleted: bool = False) -> pd.DataFrame:
    """The findings as a DataFrame of the given columns: the fast path for maps and charts (no model
    object per row). The rows come straight from the driver's cursor (no SQLAlchemy row objects, the
    query has no parameters), the frame is made from the driver's tuples in one step and times are
    converted all at once (to Europe/Copenhagen): 100,000 findings in a fraction of a second."""
    columns = list(columns)
    postgres = conn.dialect.name == "postgresql"
    query = select(*[_epoch(observations.c[c]) if postgres and isinstance(observations.c[c].type, UtcDateTime)
                     else observations.c[c] for c in columns])
    if not include_deleted:
        query = query.where(observations.c.deleted.is_(False))
    cursor = conn.connection.cursor()  # the same connection, so the same transaction
    try:
        cursor.execute(str(query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})))
        rows = cursor.fetchall()
    finally:
        cursor.close()
    out = pd.DataFrame.from_records(rows, columns=columns)
    for c in columns:
        kind = observations.c[c].type
        if isinstance(kind, UtcDateTime):  # SQLite holds UTC text; from PostgreSQL: seconds since 1970
            when = pd.to_datetime((out[c].astype(float) * 1e6).round(), unit="us", utc=True) if postgres else \
                pd.to_datetime(out[c], utc=True, format="ISO8601")
            out[c] = when.dt.tz_convert(TZ)
        elif isinstance(kind, Boolean):  # SQLite gives 0/1
            out[c] = out[c].astype(bool)
    return out


def _epoch(column):
    """A timestamptz as seconds since 1970 (double): a million of them arrive as floats, not as Python
    datetimes made one by one (about 2 s)."""
    return cast(func.extract("epoch", column), Float).label(column.name)


def reassign_areas(conn: Connection, assignments: dict[str, str | None]) -> None:
    """Set area_id for each observation id given."""
    for obs_id, area_id in assignments.items():
        conn.execute(update(observations).where(observations.c.id == obs_id).values(area_id=area_id))
