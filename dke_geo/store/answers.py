"""Residents' answers to "Er det stadig et problem?" in the database: added by the public page, read only for staff.

An answer row holds the finding it is about, yes/no, the resident's short text and the time: no name, e-mail,
address or client. Nothing on the public side reads this table (store/public.py's whitelist does not name it).
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import pandas as pd
from sqlalchemy import Connection, insert, select

from dke_geo.store.tables import fix_observations, observations, resident_answers

COLUMNS = ("observation_id", "still_a_problem", "text", "at", "category", "area_id")


def add(conn: Connection, obs_id: str, still_a_problem: bool, text: str, at: datetime) -> None:
    conn.execute(insert(resident_answers).values(observation_id=obs_id, still_a_problem=still_a_problem, text=text,
                                                 at=at))


def _read(conn: Connection, where, limit: int | None) -> pd.DataFrame:
    query = (select(resident_answers.c.observation_id, resident_answers.c.still_a_problem, resident_answers.c.text,
                    resident_answers.c.at, observations.c.category, observations.c.area_id)
             .join(observations, observations.c.id == resident_answers.c.observation_id)
             .where(observations.c.deleted.is_(False), where)
             .order_by(resident_answers.c.at.desc(), resident_answers.c.id.desc()).limit(limit))
    return pd.DataFrame(conn.execute(query).fetchall(), columns=list(COLUMNS))


def in_areas(conn: Connection, area_ids: Iterable[str], until: datetime, limit: int) -> pd.DataFrame:
    """The newest `limit` answers given before `until` about (not deleted) findings in the areas, newest first."""
    return _read(conn, observations.c.area_id.in_(list(area_ids)) & (resident_answers.c.at <= until), limit)


def for_fix(conn: Connection, fix_id: str) -> pd.DataFrame:
    """Every answer about the (not deleted) findings a fix addresses, newest first."""
    linked = select(fix_observations.c.observation_id).where(fix_observations.c.fix_id == fix_id)
    return _read(conn, resident_answers.c.observation_id.in_(linked), None)
