"""Significant hotspots: Getis-Ord Gi* (esda) on grid counts, with a false-discovery-rate correction.

Gi* compares the findings in a cell and its neighbours with what the study area as a whole would
give there by chance. Every cell is its own test, so with thousands of cells some would look
"significant" by luck alone; the Benjamini-Hochberg false-discovery-rate correction (esda.fdr) keeps
the expected share of false alarms among the marked cells at 10, 5 or 1 %. A cell is then hot (or
cold) at 90, 95 or 99 % confidence, as in the usual hot-spot analysis of GIS packages.

The p-values are exact rather than Gi*'s normal approximation, which is too optimistic for small
counts (on uniform random points it marks cells "significant" in most runs). With binary weights Gi*
is a monotone function of the neighbourhood sum S (the findings in a cell and its neighbours); if the
N findings were spread evenly over the study area's n cells, S of a k-cell neighbourhood would be
Binomial(N, k/n), so the two-sided p-value is twice the smaller binomial tail. Permutation p-values
cannot serve either: they cannot go below 1/(permutations + 1), too coarse to survive the correction
over thousands of cells.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from esda import fdr
from esda.getisord import G_Local
from libpysal.weights import DistanceBand
from scipy.stats import binom

from dke_geo.density import CellCounts, Grid

LEVELS = (0.10, 0.05, 0.01)
"""False-discovery rates of the classes 1, 2, 3 (90, 95 and 99 % confidence)."""
CONFIDENCE = {1: 90, 2: 95, 3: 99}


@dataclass(frozen=True)
class Hotspots:
    """Gi* per cell of the study area. `level` is +1/+2/+3 for hot at 90/95/99 %, the negative for
    cold, 0 for not significant."""
    grid: Grid
    i: np.ndarray
    j: np.ndarray
    count: np.ndarray
    z: np.ndarray
    p: np.ndarray
    level: np.ndarray

    def significant(self, alpha: float = 0.05) -> np.ndarray:
        """Mask of the cells significant at false-discovery rate `alpha` (one of LEVELS)."""
        return np.abs(self.level) >= LEVELS.index(alpha) + 1

    def cells(self) -> CellCounts:
        """The significant cells with their counts (for drawing)."""
        keep = self.level != 0
        return CellCounts(self.grid, self.i[keep], self.j[keep], self.count[keep])


def gi_star(counts: CellCounts, lattice: tuple[np.ndarray, np.ndarray]) -> Hotspots:
    """Getis-Ord Gi* of `counts` over the study area `lattice` (every cell (i, j) of the area,
    empty ones included), neighbours being the cells around each cell (queen for squares, the six
    around a hexagon), binary weights including the cell itself.

    >>> from dke_geo.density import Grid, count
    >>> g = Grid("square", 10)
    >>> li, lj = np.meshgrid(np.arange(20), np.arange(20))
    >>> xs = np.r_[np.full(40, 55.0), np.arange(400) % 20 * 10 + 5]
    >>> ys = np.r_[np.full(40, 55.0), np.arange(400) // 20 * 10 + 5]
    >>> h = gi_star(count(xs, ys, g), (li.ravel(), lj.ravel()))
    >>> int(h.level[(h.i == 5) & (h.j == 5)][0])
    3
    """
    grid = counts.grid
    i, j = (np.asarray(a, dtype=np.int64) for a in lattice)
    y = counts.on(i, j).astype(float)
    n = len(y)
    z = np.zeros(n)
    p = np.ones(n)
    if n >= 3 and np.ptp(y) > 0:
        cx, cy = grid.centres(i, j)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # islands (a cell with no neighbour) are legitimate here
            weights = DistanceBand(np.column_stack([cx, cy]), threshold=1.5 * grid.spacing, binary=True,
                                   silence_warnings=True)
            gi = G_Local(y, weights, transform="B", permutations=0, star=True)
        z = np.nan_to_num(np.asarray(gi.Zs, dtype=float))
        total = y.sum()
        window = np.rint(np.asarray(gi.Gs, dtype=float) * total)  # S: findings in the cell and around it
        share = (np.array([weights.cardinalities[k] for k in weights.id_order]) + 1) / n
        p = np.minimum(1.0, 2 * np.minimum(binom.sf(window - 1, total, share), binom.cdf(window, total, share)))
    level = np.zeros(n, dtype=int)
    for rank, alpha in enumerate(LEVELS if n else (), start=1):  # esda.fdr divides by the number of cells
        level[p < fdr(p, alpha)] = rank
    return Hotspots(grid, i, j, y, z, p, np.sign(z).astype(int) * level)
