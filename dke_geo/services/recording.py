"""Recording in the field: walks and findings."""
from __future__ import annotations

from uuid import UUID

from sqlalchemy import Engine

from dke_geo import geo
from dke_geo.errors import NotFound
from dke_geo.model import Observation, Walk
from dke_geo.roles import Actor, Permission, require
from dke_geo.services import areas as area_service
from dke_geo.store import observations as obs_store
from dke_geo.store import walks as walk_store
from dke_geo.store.db import reading, transaction


def start_walk(engine: Engine, actor: Actor, data: dict) -> Walk:
    """Validate and store a new walk; the same id twice stores it once."""
    require(actor, Permission.RECORD)
    walk = Walk.parse({**data, "created_by": actor.name})
    known = set(area_service.current(engine)["id"])
    unknown = [a for a in walk.area_ids if a not in known]
    if unknown:
        raise NotFound("error.unknown_area", value=unknown[0])
    with transaction(engine) as conn:
        walk_store.add(conn, walk)
    return walk


def get_walk(engine: Engine, actor: Actor, walk_id: UUID | str) -> Walk:
    require(actor, Permission.VIEW_INTERNAL)
    with reading(engine) as conn:
        walk = walk_store.get(conn, walk_id)
    if walk is None:
        raise NotFound(what=f"walk {walk_id}")
    return walk


def record_observation(engine: Engine, actor: Actor, data: dict, *, allow_outside: bool = False) -> tuple[Observation, bool]:
    """Validate and store a finding, its area derived from the point.

    The client chooses the id, so a retried or double-tapped save stores one finding: the second
    call returns the stored one and False.
    """
    require(actor, Permission.RECORD)
    data = {**data, "created_by": actor.name, "updated_by": actor.name}
    obs = Observation.parse(data, allow_outside=allow_outside)
    obs.area_id = geo.assign_areas([obs.lon], [obs.lat], area_service.current(engine))[0]
    with transaction(engine) as conn:
        if obs.walk_id is not None and walk_store.get(conn, obs.walk_id) is None:
            raise NotFound(what=f"walk {obs.walk_id}")
        created = obs_store.add(conn, obs)
        stored = obs if created else obs_store.get(conn, obs.id)
    return stored, created


def walk_observations(engine: Engine, actor: Actor, walk_id: UUID | str) -> list[Observation]:
    """A walk's findings, newest first."""
    require(actor, Permission.VIEW_INTERNAL)
    with reading(engine) as conn:
        return obs_store.for_walk(conn, walk_id)
