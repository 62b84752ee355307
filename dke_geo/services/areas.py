"""Housing areas: seeding from data/geo/, replacing with the municipality's outlines, listing."""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
from sqlalchemy import Engine, select

from dke_geo import geo
from dke_geo.roles import Actor, Permission, require
from dke_geo.store import areas as area_store
from dke_geo.store import observations as obs_store
from dke_geo.store.db import reading, transaction
from dke_geo.store.tables import observations

_cache: dict[tuple[str, int], gpd.GeoDataFrame] = {}


def seed_if_empty(engine: Engine) -> bool:
    """Store the shipped outlines (data/geo/areas.geojson) if the database has no areas yet."""
    with transaction(engine) as conn:
        if area_store.count(conn):
            return False
        area_store.replace_all(conn, geo.layer("areas")[["id", "name", "confidence", "source", "geometry"]])
        return True


def current(engine: Engine) -> gpd.GeoDataFrame:
    """The areas in the database (EPSG:4326), cached until they are replaced."""
    with reading(engine) as conn:
        key = (str(engine.url), area_store.version(conn))
        if key not in _cache:
            _cache.clear()
            _cache[key] = area_store.load(conn)
    return _cache[key]


def replace_from_file(engine: Engine, actor: Actor, path: Path, name_field: str) -> dict:
    """Replace all outlines with the municipality's own file and re-assign every finding to the new
    areas, in one transaction. Returns counts for the user."""
    require(actor, Permission.MANAGE_AREAS)
    new = geo.read_areas_file(path, name_field)
    with transaction(engine) as conn:
        area_store.replace_all(conn, new)
        rows = conn.execute(select(observations.c.id, observations.c.lon, observations.c.lat,
                                   observations.c.area_id)).fetchall()
        frame = pd.DataFrame(rows, columns=["id", "lon", "lat", "area_id"])
        assigned = geo.assign_areas(frame["lon"], frame["lat"], new) if len(frame) else []
        changed = {i: a for i, a, old in zip(frame["id"], assigned, frame["area_id"]) if a != old}
        obs_store.reassign_areas(conn, changed)
    return {"areas": len(new), "observations": len(frame), "reassigned": len(changed)}


def summary(engine: Engine) -> pd.DataFrame:
    """One row per area: id, name, confidence, area in hectares, number of findings."""
    areas = current(engine)
    with reading(engine) as conn:
        counts = area_store.observation_counts(conn)
    return pd.DataFrame({
        "id": areas["id"], "name": areas["name"], "confidence": areas["confidence"],
        "area_ha": (areas.to_crs(geo.METRIC).area / 1e4).round(1).to_numpy(),
        "observations": [counts.get(a, 0) for a in areas["id"]],
    })
