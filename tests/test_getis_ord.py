"""Getis-Ord Gi* with FDR on constructed data: a planted cluster is found where it was planted;
uniform random points give no significant cell at 5 % FDR (fixed seeds)."""
import numpy as np
import pytest
import shapely

from dke_geo import density, getis_ord
from dke_geo.density import Grid

REGION = shapely.box(0, 0, 2000, 2000)


def _uniform(seed, n=3000):
    rng = np.random.default_rng(seed)
    return rng.uniform(0, 2000, n), rng.uniform(0, 2000, n)


@pytest.mark.parametrize("kind", ["square", "hexagon"])
@pytest.mark.parametrize("seed", range(5))
def test_uniform_random_points_give_no_significant_cell(kind, seed):
    grid = Grid(kind, 50)
    result = getis_ord.gi_star(density.count(*_uniform(seed), grid), grid.lattice(REGION))
    assert len(result.i) > 1500
    assert not result.significant(0.05).any()


def test_false_alarms_stay_near_the_promised_rate():
    """Over 40 uniform samples, the share with any cell marked at 5 % FDR stays near 5 % (the
    correction controls it; the normal approximation alone would mark cells in most samples)."""
    grid = Grid("square", 50)
    lattice = grid.lattice(REGION)
    noisy = sum(getis_ord.gi_star(density.count(*_uniform(100 + s), grid), lattice).significant(0.05).any()
                for s in range(40))
    assert noisy <= 4


@pytest.mark.parametrize("kind", ["square", "hexagon"])
def test_planted_cluster_is_found_in_the_right_cells(kind):
    grid = Grid(kind, 50)
    x, y = _uniform(7)
    rng = np.random.default_rng(8)
    x = np.r_[x, rng.normal(1000, 40, 150)]
    y = np.r_[y, rng.normal(600, 40, 150)]
    result = getis_ord.gi_star(density.count(x, y, grid), grid.lattice(REGION))
    hot = result.significant(0.05) & (result.level > 0)
    cx, cy = grid.centres(result.i, result.j)
    assert hot.sum() >= 5
    assert np.hypot(cx[hot] - 1000, cy[hot] - 600).max() < 150  # all hot cells are at the cluster
    centre = np.argmin(np.hypot(cx - 1000, cy - 600))
    assert result.level[centre] == 3  # hot at 99 %
    assert result.z[centre] > 4
    assert result.cells().count.sum() == result.count[result.level != 0].sum()


def test_an_empty_quarter_is_cold():
    grid = Grid("square", 50)
    x, y = _uniform(9, 6000)
    keep = ~((x < 700) & (y < 700))
    result = getis_ord.gi_star(density.count(x[keep], y[keep], grid), grid.lattice(REGION))
    cold = result.significant(0.05) & (result.level < 0)
    cx, cy = grid.centres(result.i, result.j)
    assert cold.sum() > 10 and (cx[cold] < 750).all() and (cy[cold] < 750).all()


def test_no_findings_gives_no_hotspot():
    grid = Grid("square", 50)
    result = getis_ord.gi_star(density.count([], [], grid), grid.lattice(REGION))
    assert not result.level.any() and (result.p == 1).all()


def test_an_empty_study_area_gives_no_cells():
    grid = Grid("square", 50)
    result = getis_ord.gi_star(density.count([1.0], [1.0], grid), grid.lattice(shapely.box(0, 0, 1, 1)))
    assert len(result.i) == 0 and len(result.cells()) == 0
