"""Photo rows in the database (the files are handled by dke_geo/photos.py)."""
from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from sqlalchemy import Connection, select, update

from dke_geo.model import Photo
from dke_geo.store.db import insert_ignoring_duplicates
from dke_geo.store.tables import photos


def add_many(conn: Connection, items: Iterable[Photo]) -> int:
    """Store photo rows in the caller's transaction; a photo already stored is skipped. Returns how many were new."""
    rows = []
    for photo in items:
        row = photo.model_dump(mode="python")
        row.update(id=str(photo.id), observation_id=str(photo.observation_id),
                   fix_id=photo.fix_id and str(photo.fix_id), deleted=False)
        rows.append(row)
    return insert_ignoring_duplicates(conn, photos, rows)


def for_observations(conn: Connection, observation_ids: Iterable[UUID | str]) -> dict[str, list[Photo]]:
    """The (not deleted) photos of each finding, oldest first, by finding id."""
    ids = [str(i) for i in observation_ids]
    out: dict[str, list[Photo]] = {}
    if not ids:
        return out
    query = (select(photos).where(photos.c.observation_id.in_(ids), photos.c.deleted.is_(False))
             .order_by(photos.c.created_at, photos.c.id))
    for row in conn.execute(query):
        data = dict(row._mapping)
        data.pop("deleted")
        out.setdefault(data["observation_id"], []).append(Photo.model_validate(data))
    return out


def first_thumbs(conn: Connection, observation_ids: list[str]) -> dict[str, str]:
    """The thumbnail path of each finding's first (not deleted) photo, by finding id (in batches)."""
    out: dict[str, str] = {}
    for start in range(0, len(observation_ids), 500):
        rows = conn.execute(select(photos.c.observation_id, photos.c.thumb_path)
                            .where(photos.c.observation_id.in_(observation_ids[start:start + 500]),
                                   photos.c.deleted.is_(False))
                            .order_by(photos.c.created_at, photos.c.id))
        for obs_id, thumb in rows:
            out.setdefault(obs_id, thumb)
    return out


def remove(conn: Connection, observation_id: UUID | str, photo_ids: Iterable[UUID | str]) -> int:
    """Mark photos of one finding as deleted (the files stay, like a deleted finding's row)."""
    ids = [str(i) for i in photo_ids]
    if not ids:
        return 0
    return conn.execute(update(photos).where(photos.c.observation_id == str(observation_id), photos.c.id.in_(ids))
                        .values(deleted=True)).rowcount


def stored_paths(conn: Connection) -> set[str]:
    """Every file path the photos table holds, deleted photos' included (their files are kept)."""
    rows = conn.execute(select(photos.c.full_path, photos.c.thumb_path, photos.c.original_path))
    return {path for row in rows for path in row if path}
