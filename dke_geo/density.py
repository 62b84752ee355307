"""Density of findings and reports: counts on square or hexagon grids and severity-weighted heatmap
points, computed in EPSG:25832 metres with pyproj + numpy (no object per point, so a million points
take a fraction of a second).

Cells are aligned on a fixed origin (0, 0) in EPSG:25832, so the same place falls in the same cell
whatever the filter: counts from two filters can be compared cell by cell, and the cell ids are
stable keys. A cell of `size` metres covers size² square metres in both kinds: a square's side is
`size`, a hexagon (pointy top) has the same area.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import shapely

from dke_geo import geo

_HEX_R = math.sqrt(2 / (3 * math.sqrt(3)))  # circumradius of a hexagon of area 1
_OFFSET = np.int64(1 << 30)  # cell indices lie well within ±2**30


class GridKind(StrEnum):
    SQUARE = "square"
    HEXAGON = "hexagon"


@dataclass(frozen=True)
class Grid:
    """A grid of cells: its kind and cell size in metres (EPSG:25832)."""
    kind: GridKind = GridKind.SQUARE
    size: float = 50.0

    def __post_init__(self):
        object.__setattr__(self, "kind", GridKind(self.kind))
        if not 5 <= self.size <= 5000:
            raise ValueError(f"cell size must be 5 to 5000 m, not {self.size}")

    @property
    def spacing(self) -> float:
        """Distance between the centres of neighbouring cells (metres)."""
        return self.size if self.kind == GridKind.SQUARE else math.sqrt(3) * self.size * _HEX_R

    def index(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        """The cell (i, j) of each metric point; for hexagons (i, j) are axial coordinates (q, r)."""
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        if self.kind == GridKind.SQUARE:
            return np.floor(x / self.size).astype(np.int64), np.floor(y / self.size).astype(np.int64)
        radius = self.size * _HEX_R
        q = (math.sqrt(3) / 3 * x - y / 3) / radius
        r = 2 / 3 * y / radius
        return _cube_round(q, r)

    def centres(self, i, j) -> tuple[np.ndarray, np.ndarray]:
        """The metric centre of each cell."""
        i, j = np.asarray(i, dtype=float), np.asarray(j, dtype=float)
        if self.kind == GridKind.SQUARE:
            return (i + 0.5) * self.size, (j + 0.5) * self.size
        radius = self.size * _HEX_R
        return radius * math.sqrt(3) * (i + j / 2), radius * 1.5 * j

    def corners(self, i, j) -> np.ndarray:
        """Each cell's outline in metres, closed: shape (n, corners + 1, 2)."""
        cx, cy = self.centres(i, j)
        if self.kind == GridKind.SQUARE:
            dx = np.array([0, 1, 1, 0, 0]) * self.size - self.size / 2
            dy = np.array([0, 0, 1, 1, 0]) * self.size - self.size / 2
        else:
            angles = np.radians(30 + 60 * np.arange(7))
            dx, dy = self.size * _HEX_R * np.cos(angles), self.size * _HEX_R * np.sin(angles)
        return np.stack([cx[:, None] + dx, cy[:, None] + dy], axis=-1)

    def lattice(self, region) -> tuple[np.ndarray, np.ndarray]:
        """Every cell whose centre lies in `region` (a shapely geometry in EPSG:25832), zero or not:
        the study area of a hotspot analysis."""
        minx, miny, maxx, maxy = region.bounds
        pad = 2 * self.size
        xs = np.arange(minx - pad, maxx + pad, self.spacing / 2)
        ys = np.arange(miny - pad, maxy + pad, self.spacing / 2)
        gx, gy = np.meshgrid(xs, ys)
        i, j = self.index(gx.ravel(), gy.ravel())
        i, j = _unpack(np.unique(cell_key(i, j)))
        cx, cy = self.centres(i, j)
        inside = shapely.contains_xy(region, cx, cy)
        return i[inside], j[inside]


def _cube_round(q: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fractional axial hexagon coordinates to the nearest hexagon (vectorised cube rounding)."""
    s = -q - r
    rq, rr, rs = np.round(q), np.round(r), np.round(s)
    dq, dr, ds = np.abs(rq - q), np.abs(rr - r), np.abs(rs - s)
    fix_q = (dq > dr) & (dq > ds)
    fix_r = ~fix_q & (dr > ds)
    rq = np.where(fix_q, -rr - rs, rq)
    rr = np.where(fix_r, -rq - rs, rr)
    return rq.astype(np.int64), rr.astype(np.int64)


def cell_key(i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """One int64 key per cell, so cells can be counted and matched with np.unique/searchsorted."""
    return ((np.asarray(i, dtype=np.int64) + _OFFSET) << 32) | (np.asarray(j, dtype=np.int64) + _OFFSET)


def _unpack(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return (key >> 32) - _OFFSET, (key & 0xFFFFFFFF) - _OFFSET


_DENSE_CELLS = 8_000_000
"""Up to this many cells in the points' bounding box, occupied cells are found by counting into an array
of them (linear time, a few ms for a million points) rather than by sorting the points' keys."""


def occupied(i: np.ndarray, j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The occupied cells' keys (sorted, as np.unique gives them) and each point's position among them.

    >>> keys, cell = occupied(np.array([3, -1, 3]), np.array([0, 5, 0]))
    >>> _unpack(keys)[0].tolist(), cell.tolist()
    ([-1, 3], [1, 0, 1])
    """
    i, j = np.asarray(i, dtype=np.int64), np.asarray(j, dtype=np.int64)
    if not len(i):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    i0, j0 = i.min(), j.min()
    rows, cols = i.max() - i0 + 1, j.max() - j0 + 1
    if rows * cols > _DENSE_CELLS:
        keys, cell = np.unique(cell_key(i, j), return_inverse=True)
        return keys, cell.ravel()
    linear = (i - i0) * cols + (j - j0)  # ordered by i, then j: the order of cell_key
    used = np.bincount(linear, minlength=rows * cols) > 0
    rank = np.cumsum(used) - 1
    at = np.flatnonzero(used)
    return cell_key(at // cols + i0, at % cols + j0), rank[linear]


@dataclass(frozen=True)
class CellCounts:
    """Counts (or summed weights) per occupied cell of `grid`."""
    grid: Grid
    i: np.ndarray
    j: np.ndarray
    count: np.ndarray

    def __len__(self) -> int:
        return len(self.count)

    def on(self, i, j) -> np.ndarray:
        """The counts for the cells (i, j), zero where a cell holds nothing: counts on a lattice."""
        keys, wanted = cell_key(self.i, self.j), cell_key(i, j)
        pos = np.clip(np.searchsorted(keys, wanted), 0, max(len(keys) - 1, 0))
        found = (keys[pos] == wanted) if len(keys) else np.zeros(len(wanted), dtype=bool)
        return np.where(found, self.count[pos] if len(keys) else 0, 0)


def count(x, y, grid: Grid, weights=None) -> CellCounts:
    """Count metric points (or sum their `weights`) per cell of `grid`; only occupied cells, sorted.

    >>> c = count([1, 2, 60], [1, 3, 1], Grid("square", 50))
    >>> c.i.tolist(), c.j.tolist(), c.count.tolist()
    ([0, 1], [0, 0], [2.0, 1.0])
    """
    i, j = grid.index(x, y)
    keys, inverse = occupied(i, j)
    totals = np.bincount(inverse, weights=None if weights is None else np.asarray(weights, dtype=float),
                         minlength=len(keys)).astype(float)
    ci, cj = _unpack(keys)
    return CellCounts(grid, ci, cj, totals)


def count_lonlat(lon, lat, grid: Grid, weights=None) -> CellCounts:
    """`count` for lon/lat points (EPSG:4326), projected to EPSG:25832 first."""
    x, y = geo.to_metric(lon, lat)
    return count(x, y, grid, weights)


def merged_cells(x, y, size: float, limit: int) -> tuple[float, np.ndarray, int]:
    """Each metric point's cell on a square grid of `size` metres, the cells doubled until at most `limit`
    hold points: (final size, each point's cell number 0..n-1, n). Sorted once at the finest size; each
    doubling then merges the (few) occupied cells, not the points: a square of side 2s holds exactly the
    cells (i // 2, j // 2) of side s, as the grid is aligned on (0, 0).

    >>> merged_cells([1, 60, 120], [1, 1, 1], 50, limit=2)[0::2]
    (100, 2)
    """
    i, j = Grid(GridKind.SQUARE, size).index(x, y)
    keys, cell = occupied(i, j)
    while len(keys) > limit:
        size *= 2
        i, j = _unpack(keys)
        keys, merged = occupied(i // 2, j // 2)
        cell = merged[cell]
    return size, cell, len(keys)


def heat_points(x, y, weights=None, cell_m: float = 10.0, max_points: int = 20_000) -> np.ndarray:
    """Heatmap input [[lat, lon, weight], ...] for metric points: points merged per cell of `cell_m` metres
    (the cell doubled until at most `max_points` remain), each at its points' mean position with their
    summed weight. So a heatmap of a million findings ships a bounded number of points and looks the same.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if not len(x):
        return np.empty((0, 3))
    w = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=float)
    _size, cell, n_cells = merged_cells(x, y, cell_m, max_points)
    n = np.bincount(cell, minlength=n_cells)
    lons, lats = geo.to_wgs84(np.bincount(cell, weights=x, minlength=n_cells) / n,
                              np.bincount(cell, weights=y, minlength=n_cells) / n)
    return np.column_stack([lats, lons, np.bincount(cell, weights=w, minlength=n_cells)])


def cells_geojson(cells: CellCounts, properties: dict[str, np.ndarray] | None = None, digits: int = 6) -> dict:
    """The cells as a GeoJSON FeatureCollection (EPSG:4326), outlines projected all at once; each
    feature carries `count` and the given per-cell `properties`."""
    grid = cells.grid
    outline = grid.corners(cells.i, cells.j)
    lon, lat = geo.to_wgs84(outline[..., 0].ravel(), outline[..., 1].ravel())
    rings = np.round(np.stack([lon, lat], axis=-1).reshape(outline.shape), digits).tolist()
    props = {"count": cells.count, **(properties or {})}
    columns = {k: np.asarray(v).tolist() for k, v in props.items()}
    features = [{"type": "Feature", "id": n,
                 "properties": {k: columns[k][n] for k in columns},
                 "geometry": {"type": "Polygon", "coordinates": [ring]}}
                for n, ring in enumerate(rings)]
    return {"type": "FeatureCollection", "features": features}
