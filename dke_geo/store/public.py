"""The public side in the database: publication state of findings and photos, the append-only
publication_events log, and the whitelisted reads the residents' view is made from (services/public.py).

The public side reads through `public_findings`, `public_photos` and `public_walk` only: each selects a fixed
list of columns (a whitelist), so a column added to a table later is never read for the public.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import pandas as pd
from sqlalchemy import Connection, case, func, insert, select, update

from dke_geo.store.tables import observations, photos, publication_events, walks

# What the public side may read: nothing else is ever selected for it.
PUBLIC_FINDING_COLUMNS = ("id", "lon", "lat", "category", "area_id", "observed_at", "public_text", "public_text_en")
PUBLIC_PHOTO_COLUMNS = ("observation_id", "full_path", "created_at")
PUBLIC_WALK_COLUMNS = ("started_at", "light_condition", "area_ids", "is_demo")
"""A walk's public facts, for the Bydelsforum report: when, in what light, where, and whether it is made up; never
its title, focus, participants or notes."""


def _live():
    return observations.c.deleted.is_(False)


def _publishing_columns() -> tuple:
    return (observations.c.id, observations.c.category, observations.c.area_id, observations.c.observed_at,
            observations.c.public_text, observations.c.public_text_en, observations.c.published)


def finding(conn: Connection, obs_id: str):
    """The (not deleted) finding's row with what publishing needs, or None."""
    return conn.execute(select(*_publishing_columns()).where(observations.c.id == obs_id, _live())).first()


def walk_findings(conn: Connection, walk_id: str) -> list:
    """The walk's (not deleted) findings, oldest first, with what publishing needs."""
    return conn.execute(select(*_publishing_columns()).where(observations.c.walk_id == walk_id, _live())
                        .order_by(observations.c.observed_at)).fetchall()


def set_published(conn: Connection, obs_id: str, published: bool, text: str | None, by: str, at: datetime,
                  text_en: str | None = None) -> None:
    """Publish or unpublish; a text given (Danish, English) replaces the stored one, None keeps it."""
    values = {"published": published, "published_by": by if published else None,
              "published_at": at if published else None}
    if text is not None:
        values["public_text"] = text
    if text_en is not None:
        values["public_text_en"] = text_en
    conn.execute(update(observations).where(observations.c.id == obs_id).values(values))


def photo(conn: Connection, photo_id: str):
    """A (not deleted) photo's id, finding and approval, or None."""
    return conn.execute(select(photos.c.id, photos.c.observation_id, photos.c.public_approved)
                        .where(photos.c.id == photo_id, photos.c.deleted.is_(False))).first()


def set_photo_approved(conn: Connection, photo_id: str, approved: bool) -> None:
    conn.execute(update(photos).where(photos.c.id == photo_id).values(public_approved=approved))


def record(conn: Connection, obs_id: str, action: str, by: str, at: datetime, public_text: str = "",
           photo_id: str | None = None, public_text_en: str = "") -> None:
    """Append one entry to the publication log."""
    conn.execute(insert(publication_events).values(observation_id=obs_id, photo_id=photo_id, at=at, by=by,
                                                   action=action, public_text=public_text,
                                                   public_text_en=public_text_en))


def events(conn: Connection, obs_id: str) -> list:
    """A finding's publication history, oldest first."""
    return conn.execute(select(publication_events).where(publication_events.c.observation_id == obs_id)
                        .order_by(publication_events.c.id)).fetchall()


def queue(conn: Connection, walk_id: str | None = None) -> pd.DataFrame:
    """The (not deleted) findings for the planner's publishing list, newest first, with their walk's title
    and their number of photos and approved photos."""
    counts = (select(photos.c.observation_id, func.count().label("n_photos"),
                     func.sum(case((photos.c.public_approved.is_(True), 1), else_=0)).label("n_approved"))
              .where(photos.c.deleted.is_(False)).group_by(photos.c.observation_id).subquery())
    query = (select(observations.c.id, observations.c.walk_id, walks.c.title.label("walk_title"),
                    observations.c.category, observations.c.area_id, observations.c.observed_at,
                    observations.c.severity, observations.c.internal_note, observations.c.public_text,
                    observations.c.public_text_en, observations.c.published, observations.c.published_at,
                    observations.c.is_demo,
                    func.coalesce(counts.c.n_photos, 0).label("n_photos"),
                    func.coalesce(counts.c.n_approved, 0).label("n_approved"))
             .outerjoin(walks, walks.c.id == observations.c.walk_id)
             .outerjoin(counts, counts.c.observation_id == observations.c.id)
             .where(_live()).order_by(observations.c.observed_at.desc()))
    if walk_id is not None:
        query = query.where(observations.c.walk_id == walk_id)
    result = conn.execute(query)
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def finding_photos(conn: Connection, obs_id: str) -> list:
    """A finding's (not deleted) photos for the planner: id, thumbnail path, approval."""
    return conn.execute(select(photos.c.id, photos.c.thumb_path, photos.c.full_path, photos.c.public_approved)
                        .where(photos.c.observation_id == obs_id, photos.c.deleted.is_(False))
                        .order_by(photos.c.created_at)).fetchall()


def public_findings(conn: Connection, walk_id: str | None = None) -> pd.DataFrame:
    """Published, not deleted findings (all, or one walk's), newest first: only PUBLIC_FINDING_COLUMNS (the walk is
    a condition here, never a column read)."""
    query = (select(*[observations.c[c] for c in PUBLIC_FINDING_COLUMNS])
             .where(observations.c.published.is_(True), _live())
             .order_by(observations.c.observed_at.desc(), observations.c.id))
    if walk_id is not None:
        query = query.where(observations.c.walk_id == walk_id)
    result = conn.execute(query)
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def public_walk(conn: Connection, walk_id: str):
    """A walk's PUBLIC_WALK_COLUMNS, or None when there is no such walk."""
    return conn.execute(select(*[walks.c[c] for c in PUBLIC_WALK_COLUMNS]).where(walks.c.id == walk_id)).first()


_IDS_PER_QUERY = 10_000  # PostgreSQL takes at most 65,535 parameters in one statement


def public_photos(conn: Connection, obs_ids: Iterable[str]) -> pd.DataFrame:
    """Approved, not deleted photos of the given (published) findings: only PUBLIC_PHOTO_COLUMNS. Asked for in
    batches, so any number of published findings works."""
    ids = list(obs_ids)
    columns = [photos.c[c] for c in PUBLIC_PHOTO_COLUMNS]
    rows = []
    for start in range(0, len(ids), _IDS_PER_QUERY):
        rows += conn.execute(select(*columns, photos.c.id)
                             .where(photos.c.observation_id.in_(ids[start:start + _IDS_PER_QUERY]),
                                    photos.c.public_approved.is_(True), photos.c.deleted.is_(False))).all()
    rows.sort(key=lambda r: (r.created_at, r.id))
    return pd.DataFrame([r[:-1] for r in rows], columns=list(PUBLIC_PHOTO_COLUMNS))


def published_ids(conn: Connection) -> list[str]:
    """The ids of the published, not deleted findings (to find the one a resident's answer is about)."""
    return list(conn.execute(select(observations.c.id).where(observations.c.published.is_(True), _live()))
                .scalars())
