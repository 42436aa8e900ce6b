"""The depth gap over a whole curve: a statistic that cannot vanish between grid points.

E_d(eps) is read at declared thresholds, and a threshold the budget grid does not
bracket yields no value. Beside it, per panel and depth d > 1 with depth 1 in the
panel, each replicate gets the mean log error ratio of its two running-minimum curves
(:func:`~depthbench.analysis.efficiency.running_min`) over the budget range both
depths cover:

    G_d = (1 / (log b - log a)) * integral_a^b log10(e_1(P) / e_d(P)) d log P,

the area between the log-error curves over the common range ``[a, b]`` of
``n_params``, divided by its width (each curve interpolated linearly in log-log, as
P_d is, so the trapezoid rule over their knots is exact). ``R_d = 10^G_d`` is the
geometric-mean factor by which depth d's error is below depth 1's: ``R_d > 1`` where
depth helps. Errors are floored at the panel's smallest declared eps, so differences
below the precision asked for do not count.
The headline is the median of ``R_d`` over replicates with its order-statistic
interval, and a one-sided sign test of ``R_d > 1`` over the paired replicates.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from depthbench.analysis.cells import INSTANCE, PANEL, Curves
from depthbench.analysis.censoring import sign_test
from depthbench.analysis.efficiency import running_min
from depthbench.analysis.intervals import median_interval


def _log_curve(x: np.ndarray, y: np.ndarray, floor: float) -> tuple[np.ndarray, np.ndarray]:
    """``(log x, log10 running min of y floored at floor)`` over the trained sizes."""
    keep = ~np.isnan(y)
    best = running_min(y)[keep]
    return np.log(x[keep]), np.log10(np.maximum(best, floor))


def mean_log_ratio(
    shallow: tuple[np.ndarray, np.ndarray], deep: tuple[np.ndarray, np.ndarray], floor: float
) -> tuple[float, float, float]:
    """``(G_d, a, b)`` of one replicate: ``shallow`` and ``deep`` are ``(sizes [k],
    errors [k])`` over ascending sizes; ``[a, b]`` the ``n_params`` range both cover.
    Both log-error curves are piecewise linear in log size, so their difference is too:
    the trapezoid rule over the union of their knots is the exact integral. A single
    shared size gives the difference there; no shared range gives NaNs."""
    (x1, y1), (xd, yd) = _log_curve(*shallow, floor), _log_curve(*deep, floor)
    if not len(x1) or not len(xd):
        return math.nan, math.nan, math.nan
    a, b = max(x1[0], xd[0]), min(x1[-1], xd[-1])
    if a > b:
        return math.nan, math.nan, math.nan
    knots = np.unique(np.concatenate([[a, b], x1[(x1 > a) & (x1 < b)], xd[(xd > a) & (xd < b)]]))
    diff = np.interp(knots, x1, y1) - np.interp(knots, xd, yd)
    sizes = np.concatenate([shallow[0], deep[0]])  # the range's ends as trained sizes
    low, high = float(sizes[np.log(sizes) == a][0]), float(sizes[np.log(sizes) == b][0])
    if b == a:
        return float(diff[0]), low, high
    area = float(np.sum((diff[1:] + diff[:-1]) * np.diff(knots)) / 2)
    return area / (b - a), low, high


def depth_gap(c: Curves, eps: Mapping[str, Sequence[float]]) -> pd.DataFrame:
    """``R_d`` per panel and depth d > 1 (module docstring).

    Columns: ``panel``, ``instance``, ``n_train``, ``depth``, ``ratio`` (median of
    ``R_d`` over replicates), ``lo``/``hi``/``coverage`` (its order-statistic
    interval), ``above``/``paired`` (replicates with ``R_d > 1``, replicates),
    ``p`` (one-sided sign test), ``low``/``high`` (the smallest and largest
    ``n_params`` of the replicates' common ranges).
    """
    rows = []
    for panel, part in c.points.groupby(PANEL, sort=True):
        part = part.sort_values("n_params")
        curves = {
            depth: (cells["n_params"].to_numpy(float), c.per_replicate.loc[cells.index])
            for depth, cells in part.groupby("depth")
        }
        if 1 not in curves:
            continue
        instance = part[INSTANCE].iloc[0]
        floor = min(eps[instance])
        x1, own1 = curves[1]
        for depth, (xd, ownd) in curves.items():
            if depth == 1:
                continue
            found = np.array(
                [
                    mean_log_ratio(
                        (x1, own1[r].to_numpy(float)), (xd, ownd[r].to_numpy(float)), floor
                    )
                    for r in own1.columns
                    if r in ownd and own1[r].notna().any() and ownd[r].notna().any()
                ]
            ).reshape(-1, 3)  # [replicates, (G, a, b)]
            found = found[~np.isnan(found[:, 0])]
            if not len(found):
                continue
            logs = found[:, 0]
            lo, hi, cover = median_interval(logs)
            k = int((logs > 0).sum())
            rows.append(
                {
                    PANEL: panel,
                    INSTANCE: instance,
                    "n_train": part["n_train"].iloc[0],
                    "depth": depth,
                    "ratio": 10 ** float(np.median(logs)),
                    "lo": 10**lo,
                    "hi": 10**hi,
                    "coverage": cover,
                    "above": k,
                    "paired": len(logs),
                    "p": sign_test(k, len(logs)),
                    "low": float(found[:, 1].min()),
                    "high": float(found[:, 2].max()),
                }
            )
    columns = [PANEL, INSTANCE, "n_train", "depth", "ratio", "lo", "hi", "coverage"]
    return pd.DataFrame(rows, columns=[*columns, "above", "paired", "p", "low", "high"])
