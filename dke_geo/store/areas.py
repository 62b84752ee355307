"""Housing areas in the database (seeded from data/geo/areas.geojson, replaceable by `areas import`, correctable one
at a time on the map) and the history of their outlines (`area_events`)."""
from __future__ import annotations

import json

import geopandas as gpd
from shapely.geometry import mapping, shape
from sqlalchemy import Connection, delete, func, insert, select, update

from dke_geo.store.tables import area_events, areas, meta, observations


def replace_all(conn: Connection, gdf: gpd.GeoDataFrame) -> None:
    """Replace every area with the rows of `gdf` (EPSG:4326; columns id, name, confidence, source)."""
    if gdf.crs is None or gdf.crs.to_epsg() != 4326:
        raise ValueError("areas must be stored in EPSG:4326")
    conn.execute(delete(areas))
    _bump_version(conn)
    conn.execute(insert(areas), [
        {"id": r.id, "name": r.name, "confidence": r.confidence, "source": r.source,
         "geojson": json.dumps(mapping(r.geometry))}
        for r in gdf.itertuples()])


def put(conn: Connection, area_id: str, name: str, confidence: str, source: str, geometry) -> dict | None:
    """Store one area's outline (a shapely geometry in EPSG:4326), adding it if it is new; returns the row as it was
    before (None for a new area)."""
    before = conn.execute(select(areas).where(areas.c.id == area_id)).mappings().first()
    values = {"name": name, "confidence": confidence, "source": source, "geojson": json.dumps(mapping(geometry))}
    if before is None:
        conn.execute(insert(areas).values(id=area_id, **values))
    else:
        conn.execute(update(areas).where(areas.c.id == area_id).values(**values))
    _bump_version(conn)
    return dict(before) if before is not None else None


def add_event(conn: Connection, **values) -> None:
    """Append one row to the outlines' history (columns of `area_events`)."""
    conn.execute(insert(area_events).values(**values))


def events(conn: Connection, limit: int = 200) -> list[dict]:
    """The latest changes of outlines, newest first (without the outlines themselves)."""
    columns = [c for c in area_events.c if c.name not in ("old_geojson", "new_geojson")]
    query = select(*columns).order_by(area_events.c.at.desc(), area_events.c.id.desc()).limit(limit)
    return [dict(r) for r in conn.execute(query).mappings()]


def _bump_version(conn: Connection) -> None:
    """Tell every cache of the outlines (AppContext.areas) that they changed."""
    bumped = conn.execute(update(meta).where(meta.c.key == "areas_version").values(value=meta.c.value + 1))
    if not bumped.rowcount:
        conn.execute(insert(meta).values(key="areas_version", value=1))


def load(conn: Connection) -> gpd.GeoDataFrame:
    """All areas as a GeoDataFrame in EPSG:4326, in name order."""
    rows = conn.execute(select(areas).order_by(areas.c.name)).fetchall()
    return gpd.GeoDataFrame(
        [{"id": r.id, "name": r.name, "confidence": r.confidence, "source": r.source,
          "geometry": shape(json.loads(r.geojson))} for r in rows],
        columns=["id", "name", "confidence", "source", "geometry"], geometry="geometry", crs=4326)


def count(conn: Connection) -> int:
    return conn.execute(select(func.count()).select_from(areas)).scalar_one()


def observation_counts(conn: Connection) -> dict[str, int]:
    """Number of (not deleted) findings per area id."""
    query = (select(observations.c.area_id, func.count()).where(observations.c.deleted.is_(False))
             .group_by(observations.c.area_id))
    return {area: n for area, n in conn.execute(query) if area is not None}


def version(conn: Connection) -> int:
    """Grows whenever the areas are replaced: the key for caches of the outlines."""
    return conn.execute(select(meta.c.value).where(meta.c.key == "areas_version")).scalar() or 0
