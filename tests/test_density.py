"""Grid counts and heatmap points on constructed data: each point in the right cell, nothing lost."""
import math

import numpy as np
import pytest
import shapely

from dke_geo import density, geo
from dke_geo.density import Grid, GridKind


@pytest.mark.parametrize("kind", list(GridKind))
def test_every_point_is_counted_once_in_the_cell_that_contains_it(kind):
    rng = np.random.default_rng(4)
    x, y = rng.uniform(700_000, 702_000, 5000), rng.uniform(6_170_000, 6_172_000, 5000)
    grid = Grid(kind, 50)
    cells = density.count(x, y, grid)
    assert cells.count.sum() == 5000
    i, j = grid.index(x, y)
    outlines = grid.corners(i, j)
    polygons = shapely.polygons(outlines)
    assert shapely.contains_xy(polygons, x, y).mean() > 0.999  # the rest lie on a shared edge
    assert np.allclose(shapely.area(polygons), 2500)  # same area for squares and hexagons


def test_square_counts_on_known_points():
    cells = density.count([1, 49, 51, 51, -1], [1, 49, 1, 1, 1], Grid("square", 50))
    assert list(zip(cells.i.tolist(), cells.j.tolist(), cells.count.tolist())) == [(-1, 0, 1.0), (0, 0, 2.0),
                                                                                  (1, 0, 2.0)]


def test_hexagon_cell_is_the_nearest_centre():
    rng = np.random.default_rng(1)
    x, y = rng.uniform(0, 1000, 20_000), rng.uniform(0, 1000, 20_000)
    grid = Grid("hexagon", 40)
    i, j = grid.index(x, y)
    cx, cy = grid.centres(i, j)
    own = np.hypot(x - cx, y - cy)
    for di, dj in ((1, 0), (-1, 0), (0, 1), (0, -1), (1, -1), (-1, 1)):
        nx, ny = grid.centres(i + di, j + dj)
        assert (np.hypot(x - nx, y - ny) >= own - 1e-9).all()


def test_weights_are_summed():
    cells = density.count([10, 20, 30], [10, 10, 10], Grid("square", 100), weights=[1, 2, 3])
    assert cells.count.tolist() == [6.0]


def test_lattice_covers_the_region_and_counts_fill_it_with_zeros():
    region = shapely.box(1000, 1000, 2000, 1500)
    grid = Grid("square", 100)
    i, j = grid.lattice(region)
    assert len(i) == 50
    cells = density.count([1050], [1050], grid)
    on = cells.on(i, j)
    assert on.sum() == 1 and on[(i == 10) & (j == 10)].tolist() == [1]
    hi, _hj = Grid("hexagon", 100).lattice(region)
    assert abs(len(hi) - 50) <= 8  # same cell area: about the same number of cells


def test_lonlat_counts_use_metres_in_epsg_25832():
    x, y = geo.to_metric([12.35], [55.66])
    lon, lat = geo.to_wgs84([x[0], x[0] + 30, x[0] + 130], [y[0], y[0], y[0]])
    cells = density.count_lonlat(lon, lat, Grid("square", 100))
    assert cells.count.sum() == 3 and len(cells) in (2, 3)
    assert density.count(x, y, Grid("square", 100)).i[0] == math.floor(x[0] / 100)


def test_heat_points_are_bounded_and_keep_the_total_weight():
    rng = np.random.default_rng(2)
    x, y = rng.uniform(700_000, 705_000, 200_000), rng.uniform(6_170_000, 6_175_000, 200_000)
    w = rng.integers(1, 4, len(x))
    heat = density.heat_points(x, y, w, cell_m=10, max_points=5000)
    assert len(heat) <= 5000
    assert heat[:, 2].sum() == pytest.approx(w.sum())
    assert heat[:, 0].min() > 55.6 and heat[:, 0].max() < 55.8 and 12.1 < heat[:, 1].min() < 12.3
    assert density.heat_points([], []).shape == (0, 3)


def test_cells_geojson_is_wgs84_with_properties():
    cells = density.count([700_010], [6_170_010], Grid("hexagon", 50))
    fc = density.cells_geojson(cells, {"label": np.array(["a"])})
    feature = fc["features"][0]
    assert feature["properties"] == {"count": 1.0, "label": "a"}
    ring = np.array(feature["geometry"]["coordinates"][0])
    assert ring.shape == (7, 2) and (ring[0] == ring[-1]).all()
    assert 12 < ring[:, 0].min() < 13 and 55 < ring[:, 1].min() < 56


def test_bad_cell_size_is_refused():
    with pytest.raises(ValueError):
        Grid("square", 0)


def test_merged_cells_are_the_cells_of_the_coarser_grid():
    """Doubling merges occupied cells, not points: the same cells as counting on the final grid, negative
    coordinates included."""
    rng = np.random.default_rng(5)
    x, y = rng.normal(0, 3000, 50_000), rng.normal(0, 3000, 50_000)
    size, cell, n = density.merged_cells(x, y, 10, limit=400)
    direct = density.count(x, y, Grid("square", size))
    assert size > 10 and n == len(direct) <= 400
    assert sorted(np.bincount(cell, minlength=n).tolist()) == sorted(direct.count.astype(int).tolist())


def test_occupied_cells_agree_with_sorting_whatever_the_spread():
    """Counting into the bounding box (points close together) and sorting (points far apart) give the same
    cells in the same order."""
    rng = np.random.default_rng(8)
    for spread in (50, 10_000_000):
        i, j = rng.integers(-spread, spread, 20_000), rng.integers(-spread, spread, 20_000)
        keys, cell = density.occupied(i, j)
        expected, inverse = np.unique(density.cell_key(i, j), return_inverse=True)
        assert keys.tolist() == expected.tolist() and cell.tolist() == inverse.ravel().tolist()
