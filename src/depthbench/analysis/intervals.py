"""Distribution-free intervals for a median over seeds, and monotone curve fits.

:func:`median_interval` is the classical order-statistic confidence interval for a
population median (Thompson 1936; Conover, *Practical Nonparametric Statistics*,
3rd ed., section 3.2; Hahn & Meeker, *Statistical Intervals*, chapter 5). For ``k``
i.i.d. draws from a continuous distribution with median ``m``, the number of draws
below ``m`` is Binomial(k, 1/2), so for ``j <= k + 1 - j``

    P(x_(j) <= m <= x_(k+1-j)) = sum_{i=j}^{k-j} C(k, i) / 2^k
                               = 1 - 2 * BinomCDF(j - 1; k, 1/2),

exactly, whatever the distribution. The interval uses the largest ``j`` whose
coverage is at least the level; with few seeds (``k <= 5`` at 95%) no ``j`` reaches
it, and the interval is the range ``[min, max]`` with its true, lower coverage
``1 - 2^(1-k)``. :func:`describe` writes the label that says which of the two it is.

:func:`isotonic_decreasing` is the least-squares non-increasing fit by
pool-adjacent-violators (Barlow, Bartholomew, Bremner & Brunk 1972, *Statistical
Inference under Order Restrictions*; Best & Chakravarti 1990, Math. Programming 47).
"""

from __future__ import annotations

import math

import numpy as np

LEVEL = 0.95  # nominal coverage of the intervals a report shows


def rank(k: int, level: float) -> tuple[int, float]:
    """The order-statistic rank ``j`` (1-based) of the interval
    ``[x_(j), x_(k+1-j)]`` for ``k`` values, and its exact coverage (``0, nan`` for
    ``k = 0``).

    ``j`` is the largest rank with coverage ``>= level``, or 1 (the range) when even
    the range falls short. Binomial terms are exact integers (``math.comb``); the
    comparison with ``level`` is done on the correctly rounded float of each ratio.
    """
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie in (0, 1), got {level!r}")
    if k == 0:
        return 0, math.nan
    total = 2**k
    j, tail = 1, 1  # tail = sum_{i < j} C(k, i)
    coverage = (total - 2 * tail) / total
    while 2 * j + 1 <= k:  # rank j + 1 still has x_(j+1) <= x_(k-j)
        wider = tail + math.comb(k, j)  # sum_{i < j + 1} C(k, i)
        candidate = (total - 2 * wider) / total
        if candidate < level:
            break
        j, tail, coverage = j + 1, wider, candidate
    return j, coverage


def median_interval(values: np.ndarray, level: float = LEVEL) -> tuple[float, float, float]:
    """Distribution-free confidence interval for the population median.

    ``values``: any shape, flattened to ``k`` i.i.d. replicates (e.g. one
    test_metric per seed) after dropping NaNs. Returns ``(lo, hi, coverage)`` with
    ``lo = x_(j)``, ``hi = x_(k+1-j)`` of the sorted values and ``coverage`` the exact
    probability ``1 - 2 * BinomCDF(j - 1; k, 1/2)`` that such an interval covers the
    median of a continuous distribution, ``j`` the largest rank with coverage
    ``>= level`` (Conover 1999, section 3.2). When none reaches ``level``
    (``k <= 5`` at 95%) the range ``[min, max]`` comes back with its coverage
    ``1 - 2^(1-k)``, below ``level``: check the third element (or use
    :func:`describe`) before calling it a ``level`` interval. ``k = 1``:
    ``(x, x, 0.0)``; ``k = 0``: ``(nan, nan, nan)``.
    """
    x = np.asarray(values, dtype=float).ravel()
    x = np.sort(x[~np.isnan(x)])
    k = x.size
    j, coverage = rank(k, level)
    if k == 0:
        return math.nan, math.nan, math.nan
    return float(x[j - 1]), float(x[k - j]), coverage


def _percent(p: float) -> str:
    """``p`` as a percentage rounded down to 0.1 (never overstating a coverage),
    without a trailing ``.0``: 0.984375 -> ``"98.4%"``, 0.75 -> ``"75%"``."""
    tenths = math.floor(1000 * p + 1e-9)
    return f"{tenths // 10}%" if tenths % 10 == 0 else f"{tenths / 10:.1f}%"


def describe(k: int, level: float = LEVEL, unit: str = "seeds") -> str:
    """The honest label of :func:`median_interval` over ``k`` values.

    ``k`` at or above the level's threshold (``k >= 6`` at 95%):
    ``"95% order-statistic interval for the median over 7 seeds (coverage 98.4%)"``,
    with the exact coverage of the interval used. Fewer: ``"range over 3 seeds
    (covers the median with probability 75%)"``. ``k = 1``: ``"one seed: no
    interval"``; ``k = 0``: ``"no seeds: no interval"``. ``unit`` is a plural noun;
    its singular drops a final ``s``. Coverages are rounded down to 0.1%.
    """
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    if k == 0:
        return f"no {unit}: no interval"
    if k == 1:
        return f"one {unit.removesuffix('s')}: no interval"
    _, coverage = rank(k, level)
    if coverage < level:
        return f"range over {k} {unit} (covers the median with probability {_percent(coverage)})"
    nominal = f"{100 * level:.10g}%"
    return (
        f"{nominal} order-statistic interval for the median over {k} {unit} "
        f"(coverage {_percent(coverage)})"
    )


def isotonic_decreasing(y: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Weighted least-squares non-increasing fit to ``y``, by pool-adjacent-violators.

    ``y``: shape ``[k]``, in the order of the abscissa (e.g. test_metric, or its log,
    over increasing log n_params). ``weights``: shape ``[k]``, positive, default all
    ones. Returns shape ``[k]``: ``f`` minimizing ``sum_i w_i (y_i - f_i)^2`` subject
    to ``f_1 >= f_2 >= ...`` over the finite entries, each pooled block at the
    weighted mean of its ``y`` (Barlow et al. 1972; Best & Chakravarti 1990). NaN
    entries of ``y`` are left NaN and take no part in the fit; the finite ones are
    fitted in order as one sequence. O(k): each entry is pushed and merged at most
    once. Pass log values for a fit in log space (e.g. a geometric fit).
    """
    y = np.asarray(y, dtype=float)
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D, got shape {y.shape}")
    w = np.ones_like(y) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != y.shape:
        raise ValueError(f"weights shape {w.shape} differs from y shape {y.shape}")
    keep = ~np.isnan(y)
    if not np.all(np.isfinite(y[keep])):
        raise ValueError("y has infinite entries; clip them (e.g. log of max(v, floor))")
    if not np.all(np.isfinite(w[keep]) & (w[keep] > 0)):
        raise ValueError("weights of the non-NaN entries must be finite and positive")
    means: list[float] = []  # one entry per block on the stack
    masses: list[float] = []
    sizes: list[int] = []
    for value, weight in zip(y[keep].tolist(), w[keep].tolist()):
        mean, mass, size = value, weight, 1
        while means and means[-1] < mean:  # non-increasing violated: pool
            before, before_mass = means.pop(), masses.pop()
            mean = (before * before_mass + mean * mass) / (before_mass + mass)
            mass, size = before_mass + mass, sizes.pop() + size
        means.append(mean)
        masses.append(mass)
        sizes.append(size)
    out = np.full_like(y, np.nan)
    out[keep] = np.repeat(np.asarray(means, dtype=float), sizes)
    return out
