"""Housing areas: seeding from data/geo/, replacing with the municipality's outlines, correcting one outline drawn
on the map, listing, and the history of the outlines.

The outlines themselves are read through the context (`AppContext.areas`), cached until they change. Whenever an
outline changes, every finding is assigned to the area that now holds it, in the same transaction, and an event
records who changed what (`area_events`).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
from shapely.geometry import mapping

from dke_geo import geo
from dke_geo.context import AppContext
from dke_geo.errors import DkeError, NotFound
from dke_geo.model import now
from dke_geo.roles import Actor, Permission, require
from dke_geo.store import areas as area_store
from dke_geo.store import observations as obs_store
from dke_geo.store.db import reading, transaction


class OutlineOverlaps(DkeError):
    """A drawn outline overlaps other areas: saved only when the planner confirms it (`names` says which)."""
    key = "error.area_overlaps"


@dataclass(frozen=True)
class OutlineSaved:
    """What `save_outline` did, for the message: the area, whether it is new, how many findings moved."""
    area_id: str
    name: str
    created: bool
    reassigned: int


def seed_if_empty(ctx: AppContext) -> bool:
    """Store the shipped outlines (data/geo/areas.geojson) if the database has no areas yet."""
    with transaction(ctx.engine) as conn:
        if area_store.count(conn):
            return False
        area_store.replace_all(conn, geo.layer("areas")[["id", "name", "confidence", "source", "geometry"]])
        return True


def replace_from_file(ctx: AppContext, actor: Actor, path: Path, name_field: str) -> dict:
    """Replace all outlines with the municipality's own file and re-assign every finding to the new
    areas, in one transaction. Returns counts for the user."""
    require(actor, Permission.MANAGE_AREAS)
    new = geo.read_areas_file(ctx.refuse_database_file(path), name_field)
    with transaction(ctx.engine) as conn:
        area_store.replace_all(conn, new)
        total, moved = _reassign(conn, new)
        at = now()
        for row in new.itertuples():
            area_store.add_event(conn, area_id=row.id, at=at, by=actor.name, action="imported", old_name=None,
                                 new_name=row.name, old_geojson=None, new_geojson=json.dumps(mapping(row.geometry)),
                                 reassigned=moved, overlap_confirmed=False)
    return {"areas": len(new), "observations": total, "reassigned": moved}


def save_outline(ctx: AppContext, actor: Actor, area_id: str | None, name: str, geometry: dict, *,
                 allow_overlap: bool = False) -> OutlineSaved:
    """Store an outline drawn on the map: a correction of area `area_id`, or a new area (`area_id` None, its id
    made from `name`). Checked first (geo.check_outline: valid, large enough, inside the municipality; a name of
    1-120 characters that no other area has); if it overlaps other areas it is refused with OutlineOverlaps naming
    them, unless `allow_overlap`. Then, in one transaction: the outline, every finding re-assigned, and an event
    with who, when and the outline before and after.

    Parameters
    ----------
    geometry : a GeoJSON Polygon or MultiPolygon in EPSG:4326 (what the map's drawing tool gives).

    Returns
    -------
    OutlineSaved: the area's id and name, whether it is new, and how many findings changed area.
    """
    require(actor, Permission.MANAGE_AREAS)
    name = " ".join((name or "").split())
    if not 1 <= len(name) <= 120:
        raise geo.AreaFileError("error.area_name", name=name)
    outline = geo.check_outline(geometry, name)
    areas = ctx.areas()
    if area_id is not None and area_id not in set(areas["id"]):
        raise NotFound("error.not_found")
    others = areas[areas["id"] != area_id]
    if name.casefold() in {n.casefold() for n in others["name"]}:
        raise geo.AreaFileError("error.area_duplicate_name", name=name)
    new_id = area_id or _free_id(geo.slug(name), set(areas["id"]))
    overlaps = geo.overlapping(outline, areas, except_id=area_id)
    if overlaps and not allow_overlap:
        raise OutlineOverlaps(names=", ".join(overlaps))
    with transaction(ctx.engine) as conn:
        before = area_store.put(conn, new_id, name, "corrected", f"corrected on the map by {actor.name}", outline)
        _total, moved = _reassign(conn, area_store.load(conn))
        area_store.add_event(conn, area_id=new_id, at=now(), by=actor.name,
                             action="created" if before is None else "changed",
                             old_name=before and before["name"], new_name=name,
                             old_geojson=before and before["geojson"], new_geojson=json.dumps(mapping(outline)),
                             reassigned=moved, overlap_confirmed=bool(overlaps))
    return OutlineSaved(new_id, name, before is None, moved)


def outline_history(ctx: AppContext, actor: Actor) -> list[dict]:
    """The latest changes of outlines, newest first: area_id, at, by, action, old and new name, findings moved."""
    require(actor, Permission.MANAGE_AREAS)
    with reading(ctx.engine) as conn:
        return area_store.events(conn)


def _reassign(conn, areas: gpd.GeoDataFrame) -> tuple[int, int]:
    """Give every finding the area that holds it under `areas`; returns (findings, findings that changed area)."""
    frame = obs_store.points(conn)
    assigned = geo.assign_areas(frame["lon"], frame["lat"], areas) if len(frame) else []
    changed = {i: a for i, a, old in zip(frame["id"], assigned, frame["area_id"], strict=True) if a != old}
    obs_store.reassign_areas(conn, changed)
    return len(frame), len(changed)


def _free_id(wanted: str, taken: set[str]) -> str:
    """`wanted`, or `wanted-2`, `wanted-3`, ... if an area already has it."""
    n, candidate = 1, wanted
    while candidate in taken:
        n += 1
        candidate = f"{wanted}-{n}"
    return candidate


def summary(ctx: AppContext, actor: Actor) -> pd.DataFrame:
    """One row per area: id, name, confidence, area in hectares, number of findings (unpublished ones too, so
    for those who may see internal data)."""
    require(actor, Permission.VIEW_INTERNAL)
    areas = ctx.areas()
    with reading(ctx.engine) as conn:
        counts = area_store.observation_counts(conn)
    return pd.DataFrame({
        "id": areas["id"], "name": areas["name"], "confidence": areas["confidence"],
        "area_ha": (areas.to_crs(geo.METRIC).area / 1e4).round(1).to_numpy(),
        "observations": [counts.get(a, 0) for a in areas["id"]],
    })
