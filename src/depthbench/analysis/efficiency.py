"""``P_d(eps)``, ``N_d(eps)`` and depth efficiency ``E_d(eps) = P_1(eps) / P_d(eps)``
(SCIENCE.md, "Core definitions"), with censoring and intervals over replicates.

Each curve (test_metric against size) is first made non-increasing by an isotonic fit
of its log values (:func:`~depthbench.analysis.intervals.isotonic_decreasing`), so one
noisy dip cannot decide where it first crosses eps. The headline value is the crossing
of the cell medians' curve; its interval is the order-statistic interval of the
median of the per-replicate crossings (each replicate's own curve at the cells' chosen
rates), labelled by its true coverage. Censored values get no interval.

Censoring (column ``censor``): ``""`` exact; ``">"`` eps was not reached on the grid,
the value is the largest size tried (a lower bound); ``"<="`` eps was already reached
at the smallest size tried (an upper bound). Censored values are kept, never dropped.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from depthbench.analysis.cells import INSTANCE, PANEL, Curves
from depthbench.analysis.intervals import isotonic_decreasing, median_interval

FLOOR = 1e-12  # test_metric can be 0 (no test error); logs are taken of max(value, FLOOR)
EPS_CURVE = 24  # thresholds on the E_d(eps) curve of each instance


def resolve_eps(declared: Sequence[float], scale: str, chance: float, bayes: float) -> list[float]:
    """Absolute test_metric thresholds from declared ``report.eps`` and its scale:
    ``chance``: eps x chance; ``bayes``: Bayes error + eps x (chance - Bayes error)
    (chance scale where the Bayes error is unknown); ``absolute``: eps itself."""
    if scale == "absolute":
        return list(declared)
    floor = bayes if scale == "bayes" and math.isfinite(bayes) else 0.0
    return [floor + e * (chance - floor) for e in declared]


def eps_grid(c: Curves, instance: str, chance: float) -> list[float]:
    """:data:`EPS_CURVE` thresholds, log-spaced from 0.9 chance down to the best
    selected value of ``instance``: where some depth crosses."""
    tuned = c.points.loc[c.points[INSTANCE] == instance, "tuned"]
    low = max(float(tuned.min()), FLOOR) if len(tuned) else chance / 100
    high = 0.9 * chance
    if not low < high:
        return []
    return np.geomspace(high, low * 1.001, EPS_CURVE).tolist()


def monotone(y: np.ndarray) -> np.ndarray:
    """``y`` ``[k]`` (ascending size) made non-increasing by an isotonic fit of
    ``log y``; NaNs stay NaN."""
    logs = np.log(np.maximum(np.asarray(y, float), FLOOR))
    return np.exp(isotonic_decreasing(logs))


def crossing(x: np.ndarray, y: np.ndarray, eps: float) -> tuple[float, str]:
    """Smallest ``x`` at which ``y <= eps``, and its censoring.

    ``x`` ``[k]`` ascending, ``y`` ``[k]`` (NaN points are skipped). Between the last
    point above eps and the first at or below it, ``log y`` is interpolated linearly
    in ``log x`` (SCIENCE.md: "interpolated log-log between grid budgets").
    """
    keep = ~np.isnan(y)
    x, y = np.asarray(x, float)[keep], np.asarray(y, float)[keep]
    if not len(x):
        return math.nan, ""
    hits = np.flatnonzero(y <= eps)
    if not len(hits):
        return float(x[-1]), ">"
    i = int(hits[0])
    if i == 0:
        return float(x[0]), "<="
    lx0, lx1 = np.log(x[i - 1]), np.log(x[i])
    ly0, ly1 = np.log(max(y[i - 1], FLOOR)), np.log(max(y[i], FLOOR))
    t = (np.log(max(eps, FLOOR)) - ly0) / (ly1 - ly0)
    return float(np.exp(lx0 + t * (lx1 - lx0))), ""


def thresholds(
    c: Curves, eps: Mapping[str, Sequence[float]], size: str = "n_params", by: str = PANEL
) -> pd.DataFrame:
    """``P_d(eps)`` (``size="n_params"``) or ``N_d(eps)`` (``"n_hidden"``) per ``by``
    group (panel), depth and eps, on monotone (isotonic) curves.

    ``eps`` maps each instance to its thresholds. Columns: ``panel``, ``instance``,
    ``n_train``, ``depth``, ``eps``, ``value``, ``censor``, ``lo``/``hi``/``coverage``
    (interval of the median of the per-replicate crossings, replicates that never
    cross counted at the grid's edge; NaN when ``value`` is censored) and
    ``replicates`` (the per-replicate crossings, a Series keyed by replicate, for
    :func:`efficiency`).
    """
    rows = []
    for (panel, depth), part in c.points.groupby([by, "depth"], sort=True):
        part = part.sort_values(size)
        x = part[size].to_numpy(float)
        median = monotone(part["tuned"].to_numpy(float))
        own = c.per_replicate.loc[part.index]  # [cells, replicates]
        curves = {r: monotone(own[r].to_numpy(float)) for r in own.columns
                  if own[r].notna().any()}
        instance = part[INSTANCE].iloc[0]
        for e in eps[instance]:
            value, censor = crossing(x, median, e)
            reps = pd.Series({r: crossing(x, y, e)[0] for r, y in curves.items()}, dtype=float)
            lo, hi, cover = median_interval(reps.to_numpy()) if censor == "" else (np.nan,) * 3
            rows.append({PANEL: panel, INSTANCE: instance, "n_train": part["n_train"].iloc[0],
                         "depth": depth, "eps": e, "value": value, "censor": censor,
                         "lo": lo, "hi": hi, "coverage": cover, "replicates": reps})
    return pd.DataFrame(rows, columns=[PANEL, INSTANCE, "n_train", "depth", "eps", "value",
                                       "censor", "lo", "hi", "coverage", "replicates"])


def _range(value: float, censor: str) -> tuple[float, float]:
    return {"": (value, value), ">": (value, math.inf), "<=": (0.0, value)}[censor]


def ratio(shallow: tuple[float, str], deep: tuple[float, str]) -> tuple[float, str]:
    """``P_1 / P_d`` by interval arithmetic on censored inputs: exact (``""``), a lower
    bound (``">="``), an upper bound (``"<="``) or ``"undetermined"`` (NaN)."""
    lo1, hi1 = _range(*shallow)
    lod, hid = _range(*deep)
    lo = lo1 / hid if hid > 0 else math.inf
    hi = hi1 / lod if lod > 0 else math.inf
    if lo == hi:
        return lo, ""
    if lo > 0 and hi == math.inf:
        return lo, ">="
    if lo == 0 and hi < math.inf:
        return hi, "<="
    return math.nan, "undetermined"


def efficiency(thr: pd.DataFrame) -> pd.DataFrame:
    """Depth efficiency ``E_d(eps) = P_1(eps) / P_d(eps)`` for every depth d > 1 of a
    panel that also has depth 1 (SCIENCE.md, "depth efficiency").

    Columns: ``panel``, ``instance``, ``n_train``, ``depth``, ``eps``, ``value``,
    ``censor`` (see :func:`ratio`), ``lo``/``hi``/``coverage`` (interval of the median
    of the per-replicate ratios, each replicate's P_1 over its own P_d; NaN for a
    censored or undetermined value), ``shallow``, ``deep`` (the two sizes).
    """
    rows = []
    for (panel, e), part in thr.groupby([PANEL, "eps"], sort=True):
        one = part[part["depth"] == 1]
        if one.empty:
            continue
        one = one.iloc[0]
        for _, deep in part[part["depth"] > 1].iterrows():
            value, censor = ratio((one["value"], one["censor"]), (deep["value"], deep["censor"]))
            lo = hi = cover = np.nan
            if censor == "":
                paired = (one["replicates"] / deep["replicates"]).dropna()
                lo, hi, cover = median_interval(paired.to_numpy())
            rows.append({PANEL: panel, INSTANCE: one[INSTANCE], "n_train": one["n_train"],
                         "depth": deep["depth"], "eps": e, "value": value, "censor": censor,
                         "lo": lo, "hi": hi, "coverage": cover, "shallow": one["value"],
                         "deep": deep["value"]})
    return pd.DataFrame(rows, columns=[PANEL, INSTANCE, "n_train", "depth", "eps", "value",
                                       "censor", "lo", "hi", "coverage", "shallow", "deep"])
