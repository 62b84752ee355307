"""Recording in the field: walks, findings and their photos.

Each function checks the actor's role first and writes in one transaction. A finding's id is chosen by the
client when its form opens, so a double-tapped or retried save stores it once. Photos are checked and decoded
before anything is written; their files are renamed into place inside the transaction that stores their rows
and removed again if it fails (see photos.PhotoFiles), so a failed save leaves nothing behind.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from dke_geo import geo
from dke_geo import photos as photo_files
from dke_geo.context import AppContext
from dke_geo.errors import Conflict, InvalidInput, NotFound
from dke_geo.i18n import t
from dke_geo.model import Observation, Walk, now
from dke_geo.roles import Actor, Permission, require
from dke_geo.store import observations as obs_store
from dke_geo.store import photos as photo_store
from dke_geo.store import walks as walk_store
from dke_geo.store.db import reading, transaction

if TYPE_CHECKING:
    from sqlalchemy import Connection

EDITABLE = frozenset({"category", "severity", "perceived_safety", "internal_note", "lon", "lat", "location_source",
                      "gps_accuracy_m"})


@dataclass(frozen=True)
class WalkSummary:
    """A walk in the list of recent walks, with its number of (not deleted) findings."""
    walk: Walk
    findings: int


@dataclass(frozen=True)
class WalkDetail:
    """A walk with its findings (newest first, each with its photos): what the recording page shows."""
    walk: Walk
    findings: list[Observation]


def start_walk(ctx: AppContext, actor: Actor, data: dict, lang: str = "da") -> Walk:
    """Validate and store a new walk; the same id twice stores it once. Without a title, the walk is named
    after its areas and date (in `lang`)."""
    require(actor, Permission.RECORD)
    areas = ctx.areas()
    names = dict(zip(areas["id"], areas["name"], strict=True))
    unknown = [a for a in data.get("area_ids", []) if a not in names]
    if unknown:
        raise NotFound("error.unknown_area", value=unknown[0])
    data = {**data, "created_by": actor.name}
    if not str(data.get("title") or "").strip():
        started = data.get("started_at") or now()
        data["title"] = t("record.walk_default_title", lang, date=f"{started:%d.%m.%Y}",
                          areas=", ".join(names[a] for a in data.get("area_ids", [])) or t("record.no_area", lang))
    walk = Walk.parse(data)
    with transaction(ctx.engine) as conn:
        walk_store.add(conn, walk)
    return walk


def end_walk(ctx: AppContext, actor: Actor, walk_id: UUID | str) -> Walk:
    """End a walk now (ending an ended walk changes nothing)."""
    require(actor, Permission.RECORD)
    with transaction(ctx.engine) as conn:
        walk = _walk(conn, walk_id)
        if walk.is_open:
            walk.ended_at = max(now(), walk.started_at)
            walk_store.update_walk(conn, walk)
    return walk


def resume_walk(ctx: AppContext, actor: Actor, walk_id: UUID | str) -> Walk:
    """Open an ended walk again, to record more findings in it."""
    require(actor, Permission.RECORD)
    with transaction(ctx.engine) as conn:
        walk = _walk(conn, walk_id)
        if not walk.is_open:
            walk.ended_at = None
            walk_store.update_walk(conn, walk)
    return walk


def get_walk(ctx: AppContext, actor: Actor, walk_id: UUID | str) -> Walk:
    require(actor, Permission.VIEW_INTERNAL)
    with reading(ctx.engine) as conn:
        return _walk(conn, walk_id)


def recent_walks(ctx: AppContext, actor: Actor, limit: int = 20) -> list[WalkSummary]:
    """The newest walks (by start time) with their number of findings."""
    require(actor, Permission.VIEW_INTERNAL)
    with reading(ctx.engine) as conn:
        return [WalkSummary(walk, n) for walk, n in walk_store.recent(conn, limit)]


def walk_detail(ctx: AppContext, actor: Actor, walk_id: UUID | str) -> WalkDetail:
    """A walk and its findings with their photos, read together."""
    require(actor, Permission.VIEW_INTERNAL)
    with reading(ctx.engine) as conn:
        return WalkDetail(_walk(conn, walk_id), _with_photos(conn, obs_store.for_walk(conn, walk_id)))


def walk_observations(ctx: AppContext, actor: Actor, walk_id: UUID | str) -> list[Observation]:
    """A walk's findings with their photos, newest first."""
    require(actor, Permission.VIEW_INTERNAL)
    with reading(ctx.engine) as conn:
        return _with_photos(conn, obs_store.for_walk(conn, walk_id))


def record_observation(ctx: AppContext, actor: Actor, data: dict, *, photos: Sequence[photo_files.Upload] = (),
                       allow_outside: bool = False) -> tuple[Observation, bool]:
    """Validate and store a finding with its photos, its area derived from the point.

    Nothing is stored without a location and a category (InvalidInput names what is missing), nor into an
    ended walk. The client chooses the id, so a retried or double-tapped save stores one finding: the second
    call returns the stored one and False.
    """
    require(actor, Permission.RECORD)
    _require_location_and_category(data)
    obs = Observation.parse({**data, "created_by": actor.name, "updated_by": actor.name}, allow_outside=allow_outside)
    processed = [photo_files.process(upload) for upload in photos]  # every file checked before anything is written
    obs.area_id = _area_of(ctx, obs.lon, obs.lat)
    files = photo_files.PhotoFiles()
    try:
        rows = [files.stage(obs.id, photo, actor.name) for photo in processed]
        with transaction(ctx.engine) as conn:
            stored = obs_store.get(conn, obs.id)
            if stored is None:
                _require_open_walk(conn, obs.walk_id)
                created = obs_store.add(conn, obs)
                stored = obs if created else obs_store.get(conn, obs.id)
            else:
                created = False
            photo_store.add_many(conn, rows)
            files.publish()
            (stored,) = _with_photos(conn, [stored])
    except BaseException:
        files.discard()
        raise
    return stored, created


def edit_observation(ctx: AppContext, actor: Actor, obs_id: UUID | str, changes: dict, *,
                     photos: Sequence[photo_files.Upload] = (), remove_photos: Sequence[UUID | str] = (),
                     expected_updated_at: datetime | None = None) -> Observation:
    """Change a finding (fields in EDITABLE; moving it re-derives its area), add and remove photos.

    With `expected_updated_at`, a finding someone else changed since it was read is refused (Conflict), so
    one tablet cannot silently overwrite another's correction.
    """
    require(actor, Permission.RECORD)
    if set(changes) - EDITABLE:
        raise ValueError(f"not editable: {sorted(set(changes) - EDITABLE)}")
    moved = "lon" in changes or "lat" in changes
    if moved and not {"lon", "lat"} <= set(changes):
        raise ValueError("a finding is moved by giving both lon and lat")
    processed = [photo_files.process(upload) for upload in photos]
    areas = ctx.areas()
    files = photo_files.PhotoFiles()
    try:
        with transaction(ctx.engine) as conn:
            current = obs_store.get(conn, obs_id)
            if current is None or current.deleted:
                raise NotFound(what=str(obs_id))
            if expected_updated_at is not None and current.updated_at != expected_updated_at:
                raise Conflict("record.edit_conflict", by=current.updated_by)
            data = {**current.model_dump(exclude={"light_condition", "photos"}), **changes,
                    "updated_by": actor.name, "updated_at": now()}
            edited = Observation.parse(data, allow_outside=not moved)
            if moved:
                edited.area_id = geo.assign_areas([edited.lon], [edited.lat], areas)[0]
            obs_store.replace(conn, edited)
            photo_store.add_many(conn, [files.stage(edited.id, photo, actor.name) for photo in processed])
            photo_store.remove(conn, edited.id, remove_photos)
            files.publish()
            (edited,) = _with_photos(conn, [edited])
    except BaseException:
        files.discard()
        raise
    return edited


def delete_observation(ctx: AppContext, actor: Actor, obs_id: UUID | str) -> Observation:
    """Soft-delete a finding, recording who deleted it and when; it leaves every list, map and count but
    stays in the database. Deleting a deleted finding changes nothing."""
    require(actor, Permission.RECORD)
    with transaction(ctx.engine) as conn:
        obs = obs_store.get(conn, obs_id)
        if obs is None:
            raise NotFound(what=str(obs_id))
        if not obs.deleted:
            obs.deleted, obs.deleted_by, obs.deleted_at = True, actor.name, now()
            obs_store.replace(conn, obs)
    return obs


def _walk(conn: Connection, walk_id: UUID | str) -> Walk:
    walk = walk_store.get(conn, walk_id)
    if walk is None:
        raise NotFound(what=f"walk {walk_id}")
    return walk


def _require_open_walk(conn: Connection, walk_id: UUID | None) -> None:
    if walk_id is not None and not _walk(conn, walk_id).is_open:
        raise Conflict("record.walk_ended")


def _require_location_and_category(data: dict) -> None:
    """Name each missing essential at once (location, category) instead of one field error at a time."""
    errors = [{"type": "missing", "loc": (field,), "ctx": {}, "msg": f"{field} is required"}
              for field, missing in (("location", data.get("lon") is None or data.get("lat") is None),
                                     ("category", not data.get("category")))
              if missing]
    if errors:
        raise InvalidInput(errors)


def _area_of(ctx: AppContext, lon: float, lat: float) -> str | None:
    return geo.assign_areas([lon], [lat], ctx.areas())[0]


def _with_photos(conn: Connection, findings: list[Observation]) -> list[Observation]:
    by_finding = photo_store.for_observations(conn, [o.id for o in findings])
    for obs in findings:
        obs.photos = by_finding.get(str(obs.id), [])
    return findings
