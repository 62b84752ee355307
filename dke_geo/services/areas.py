"""Housing areas: seeding from data/geo/, replacing with the municipality's outlines, listing.

The outlines themselves are read through the context (`AppContext.areas`), cached until they are replaced.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from dke_geo import geo
from dke_geo.context import AppContext
from dke_geo.roles import Actor, Permission, require
from dke_geo.store import areas as area_store
from dke_geo.store import observations as obs_store
from dke_geo.store.db import reading, transaction


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
        frame = obs_store.points(conn)
        assigned = geo.assign_areas(frame["lon"], frame["lat"], new) if len(frame) else []
        changed = {i: a for i, a, old in zip(frame["id"], assigned, frame["area_id"]) if a != old}
        obs_store.reassign_areas(conn, changed)
    return {"areas": len(new), "observations": len(frame), "reassigned": len(changed)}


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
