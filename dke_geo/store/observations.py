"""Observations (findings) in the database."""
from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

import pandas as pd
from sqlalchemy import Connection, func, select, update

from dke_geo.model import Observation
from dke_geo.store import columnar
from dke_geo.store.db import bulk_insert, insert_ignoring_duplicates
from dke_geo.store.tables import observations

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
    return Observation.model_validate(data, context={"allow_outside": True, "stored": True})


def add(conn: Connection, obs: Observation) -> bool:
    """Store `obs`; False if one with the same id (or external id) was already stored."""
    return insert_ignoring_duplicates(conn, observations, [_row(obs)]) == 1


def add_many(conn: Connection, items: Iterable[Observation]) -> int:
    """Store many observations in the caller's transaction; returns how many were new."""
    return insert_ignoring_duplicates(conn, observations, [_row(o) for o in items])


def add_frame(conn: Connection, rows: pd.DataFrame) -> int:
    """Store many findings given as a frame of model values (an import: vectorised, COPY on PostgreSQL) in the
    caller's transaction, skipping any whose id or external id is stored; returns how many were new."""
    return bulk_insert(conn, "observations", rows, skip_existing=True)


def stored_keys(reader: columnar.ColumnReader) -> tuple[pd.Series, pd.Series]:
    """Every stored id and external id (deleted findings too): what an import skips, read as whole columns."""
    keys = reader.frame(select(observations.c.id, observations.c.external_id))
    return keys["id"], keys["external_id"].dropna()


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


def frame(reader: columnar.ColumnReader, columns: Iterable[str] = FRAME_COLUMNS,
          include_deleted: bool = False) -> pd.DataFrame:
    """The findings as a DataFrame of the given columns: the fast path for maps, charts and exports (whole
    columns through store.columnar, no model object or tuple per row; times in Europe/Copenhagen)."""
    query = select(*[observations.c[c] for c in columns])
    if not include_deleted:
        query = query.where(observations.c.deleted.is_(False))
    return reader.frame(query)


def points(conn: Connection) -> pd.DataFrame:
    """id, lon, lat, area_id of every finding (deleted ones too: their area follows the outlines as well)."""
    rows = conn.execute(select(observations.c.id, observations.c.lon, observations.c.lat, observations.c.area_id))
    return pd.DataFrame(rows.fetchall(), columns=["id", "lon", "lat", "area_id"])


def live_ids(conn: Connection, obs_ids: Iterable[UUID | str]) -> set[str]:
    """Which of `obs_ids` are stored and not deleted."""
    ids = [str(i) for i in obs_ids]
    return set(conn.execute(select(observations.c.id).where(observations.c.id.in_(ids),
                                                            observations.c.deleted.is_(False))).scalars())


def area_ids(conn: Connection, obs_ids: Iterable[UUID | str]) -> set[str | None]:
    """The areas of the given findings."""
    return set(conn.execute(select(observations.c.area_id).where(
        observations.c.id.in_([str(i) for i in obs_ids]))).scalars())


def notes(conn: Connection, obs_ids: list[str]) -> dict[str, str]:
    """Internal note by finding id (asked for in batches: any number of ids)."""
    out: dict[str, str] = {}
    for start in range(0, len(obs_ids), 500):
        out.update(conn.execute(select(observations.c.id, observations.c.internal_note)
                                .where(observations.c.id.in_(obs_ids[start:start + 500]))).all())
    return out


def count(conn: Connection) -> int:
    """How many findings are stored (deleted ones included)."""
    return conn.execute(select(func.count()).select_from(observations)).scalar_one()


def has_demo(conn: Connection) -> bool:
    """True when any demo finding is stored."""
    return conn.execute(select(observations.c.id).where(observations.c.is_demo.is_(True)).limit(1)).first() is not None


def reassign_areas(conn: Connection, assignments: dict[str, str | None]) -> None:
    """Set area_id for each observation id given."""
    for obs_id, area_id in assignments.items():
        conn.execute(update(observations).where(observations.c.id == obs_id).values(area_id=area_id))
