"""Geodata: the shipped layers in data/geo/, CRS checks, point-in-area, and metric work in EPSG:25832.

Storage and maps use EPSG:4326 (lon/lat); distances, grids and densities are computed in EPSG:25832
(ETRS89 / UTM 32N), Denmark's standard metric CRS.
"""
from __future__ import annotations

import re
import unicodedata
from functools import cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely
from pyproj import Transformer
from shapely.validation import explain_validity

from dke_geo import config
from dke_geo.errors import DkeError

WGS84 = 4326
METRIC = 25832
_TO_METRIC = Transformer.from_crs(WGS84, METRIC, always_xy=True)
_TO_WGS84 = Transformer.from_crs(METRIC, WGS84, always_xy=True)


class AreaFileError(DkeError):
    """An areas file or a drawn outline that cannot become an area (bad CRS, geometry or names)."""


CERTAIN = ("official", "high", "corrected")
"""Outline confidences drawn solid: the municipality's own, a certain one, one corrected on the map by the unit.
Every other one (medium, low, unverified) is drawn dashed and marked approximate."""
MIN_AREA_M2 = 100.0
"""A drawn outline smaller than this is a slip of the finger, not an area."""
OVERLAP_M2 = 1.0
"""Two outlines sharing more than this overlap (less is where two drawn edges touch)."""


def check_crs(gdf: gpd.GeoDataFrame, epsg: int, what: str) -> gpd.GeoDataFrame:
    """Refuse `gdf` unless it is in EPSG:`epsg` (a missing CRS is an error, never a guess)."""
    if gdf.crs is None or gdf.crs.to_epsg() != epsg:
        raise ValueError(f"{what}: expected EPSG:{epsg}, got {gdf.crs}")
    return gdf


@cache
def layer(name: str) -> gpd.GeoDataFrame:
    """A shipped layer from data/geo/ (boundary, areas, paths, roads, cycle_routes), checked to be EPSG:4326."""
    return check_crs(gpd.read_file(config.geo_dir() / f"{name}.geojson"), WGS84, f"data/geo/{name}.geojson")


def to_metric(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Project lon/lat arrays to EPSG:25832 metres, vectorised."""
    return _TO_METRIC.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))


def to_wgs84(x, y) -> tuple[np.ndarray, np.ndarray]:
    """Project EPSG:25832 arrays back to lon/lat, vectorised."""
    return _TO_WGS84.transform(np.asarray(x, dtype=float), np.asarray(y, dtype=float))


@cache
def _boundary_metric():
    geom = layer("boundary").to_crs(METRIC).geometry.union_all()
    shapely.prepare(geom)
    return geom


def boundary_margin() -> float:
    return config.boundary_margin_m()


def distance_outside_m(lon: float, lat: float) -> float:
    """0 for a point inside Albertslund Kommune, else its distance from the boundary in metres."""
    return float(distances_outside_m([lon], [lat])[0])


def distances_outside_m(lon, lat) -> np.ndarray:
    """`distance_outside_m` of every point, vectorised (the model checks one finding, an import a million, with
    the same numbers): 0 inside, the distance to the boundary outside, infinite where the point cannot be
    projected.

    >>> distances_outside_m([12.35732, 12.6], [55.66024, 55.68]).round(-3).tolist()
    [0.0, 13000.0]
    """
    x, y = to_metric(lon, lat)
    x, y = np.atleast_1d(x), np.atleast_1d(y)
    out = np.full(len(x), np.inf)
    finite = np.isfinite(x) & np.isfinite(y)
    boundary = _boundary_metric()
    inside = np.zeros(len(x), dtype=bool)
    inside[finite] = shapely.contains_xy(boundary, x[finite], y[finite])
    out[inside] = 0.0
    rest = finite & ~inside
    if rest.any():
        out[rest] = shapely.distance(boundary, shapely.points(x[rest], y[rest]))
    return out


def assign_areas(lon, lat, areas: gpd.GeoDataFrame) -> np.ndarray:
    """The id of the area containing each point (None outside every area), vectorised.

    >>> import geopandas as gpd, shapely
    >>> a = gpd.GeoDataFrame({"id": ["a"]}, geometry=[shapely.box(0, 0, 1, 1)], crs=4326)
    >>> assign_areas([0.5, 2], [0.5, 2], a).tolist()
    ['a', None]
    """
    check_crs(areas, WGS84, "areas")
    points = shapely.points(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    out = np.full(len(points), None, dtype=object)
    if len(areas) and len(points):
        tree = shapely.STRtree(areas.geometry.values)
        point_idx, area_idx = tree.query(points, predicate="within")
        out[point_idx] = areas["id"].to_numpy()[area_idx]
    return out


def check_outline(geometry: dict, name: str) -> shapely.Geometry:
    """An outline drawn on the map (GeoJSON geometry in EPSG:4326) checked for use as the area `name`: one or more
    polygons, valid (no edge crossing another), at least MIN_AREA_M2, and inside the municipality (with the
    boundary margin). Raises AreaFileError saying what is wrong.

    >>> box = {"type": "Polygon", "coordinates": [[[12.35, 55.66], [12.351, 55.66], [12.351, 55.661], [12.35, 55.66]]]}
    >>> check_outline(box, "Blokland").geom_type
    'Polygon'
    """
    try:
        geom = shapely.geometry.shape(geometry)
    except (AttributeError, KeyError, TypeError, ValueError, shapely.errors.GEOSException):
        raise AreaFileError("error.area_empty", name=name) from None
    if geom.is_empty:
        raise AreaFileError("error.area_empty", name=name)
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise AreaFileError("error.area_not_polygon", name=name, type=geom.geom_type)
    if not geom.is_valid:
        raise AreaFileError("error.area_invalid", name=name, reason=explain_validity(geom))
    metric = _metric(geom)
    if metric.area < MIN_AREA_M2:
        raise AreaFileError("error.area_too_small", name=name, m2=round(metric.area), min_m2=round(MIN_AREA_M2))
    if not _boundary_metric().buffer(boundary_margin()).contains(metric):
        raise AreaFileError("error.area_outside", name=name)
    return geom


def area_m2(geom: shapely.Geometry) -> float:
    """The area of a lon/lat geometry in square metres (computed in EPSG:25832)."""
    return float(_metric(geom).area)


def _metric(geom: shapely.Geometry) -> shapely.Geometry:
    return shapely.transform(geom, lambda xy: np.column_stack(to_metric(xy[:, 0], xy[:, 1])))


def overlapping(geom: shapely.Geometry, areas: gpd.GeoDataFrame, except_id: str | None = None) -> list[str]:
    """The names of the `areas` (other than `except_id`) that share more than OVERLAP_M2 with `geom` (EPSG:4326)."""
    check_crs(areas, WGS84, "areas")
    others = areas[areas["id"] != except_id]
    shared = others.to_crs(METRIC).intersection(gpd.GeoSeries([geom], crs=WGS84).to_crs(METRIC).iloc[0]).area
    return others["name"][shared.to_numpy() > OVERLAP_M2].tolist()


def slug(name: str) -> str:
    """A stable ascii id from an area name: "Hyldespjældet" -> "hyldespjaeldet"."""
    text = name.lower().replace("æ", "ae").replace("ø", "oe").replace("å", "aa")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-") or "area"


def read_areas_file(path: Path, name_field: str) -> gpd.GeoDataFrame:
    """Read the municipality's own area outlines (GeoJSON, GeoPackage, Shapefile; any CRS) for
    `areas import`: reprojected to EPSG:4326, each feature checked; a bad one is refused by name."""
    try:
        gdf = gpd.read_file(path)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, OSError) as exc:
        raise AreaFileError("error.area_file_unreadable", path=str(path), reason=str(exc)) from None
    if name_field not in gdf.columns:
        raise AreaFileError("error.area_name_field", field=name_field,
                            fields=", ".join(c for c in gdf.columns if c != "geometry"))
    if gdf.crs is None:
        raise AreaFileError("error.area_no_crs", path=str(path))
    for i, row in enumerate(gdf.itertuples(), start=1):
        name = str(getattr(row, name_field) or "").strip() or f"#{i}"
        geom = row.geometry
        if geom is None or geom.is_empty:
            raise AreaFileError("error.area_empty", name=name)
        if geom.geom_type not in ("Polygon", "MultiPolygon"):
            raise AreaFileError("error.area_not_polygon", name=name, type=geom.geom_type)
        if not geom.is_valid:
            raise AreaFileError("error.area_invalid", name=name, reason=explain_validity(geom))
    names = gdf[name_field].astype(str).str.strip()
    out = gpd.GeoDataFrame({"id": names.map(slug), "name": names, "confidence": "official",
                            "source": f"imported from {Path(path).name}"},
                           geometry=gdf.geometry.to_crs(WGS84).values, crs=WGS84)
    duplicated = out["id"][out["id"].duplicated()].tolist()
    if duplicated:
        raise AreaFileError("error.area_duplicate", name=duplicated[0])
    far = [n for n, g in zip(out["name"], out.to_crs(METRIC).geometry)
           if not g.intersects(_boundary_metric().buffer(boundary_margin()))]
    if far:
        raise AreaFileError("error.area_outside", name=far[0])
    return out
