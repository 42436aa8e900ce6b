"""``P_d(eps)``, ``N_d(eps)`` and depth efficiency ``E_d(eps) = P_1(eps) / P_d(eps)``
(docs/science.md, "Thresholds P_d and N_d", "Depth efficiency", "Censoring"), with
censoring and intervals over replicates.

Each replicate's curve (test_metric against size at the cells' chosen rates) is first
made non-increasing by an isotonic fit of its log values
(:func:`~depthbench.analysis.intervals.isotonic_decreasing`), so one noisy dip cannot
decide where it first crosses eps. The headline value is the median over replicates of
their crossings (or ratios); its interval is the order-statistic interval of that
median, labelled by its true coverage. Censored values get no interval.

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
    in ``log x`` (docs/science.md, "Thresholds P_d and N_d": interpolated log-log
    between grid budgets).
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


LOWER = (">", ">=")  # censor marks of lower bounds (sizes, ratios)
UPPER = ("<=",)


def censored_median(
    values: Sequence[float], censors: Sequence[str], lower: str
) -> tuple[float, str]:
    """The median of per-replicate values some of which are bounds.

    A lower bound (``">"``, ``">="``) may lie anywhere above its value, an upper bound
    (``"<="``) anywhere below. The median is exact when it is the same with every bound
    at its value and with every bound pushed to its open end; otherwise it is a lower
    bound (``lower``) at the smallest median the bounds allow, or, where that is
    unbounded, an upper bound (``"<="``) at the largest; ``"undetermined"`` (NaN) when
    neither is finite or a replicate is itself undetermined (NaN: it could lie anywhere).
    """
    v = np.asarray(values, dtype=float)
    if not len(v) or np.isnan(v).any():
        return math.nan, "undetermined"
    below = np.array([c in LOWER for c in censors])  # true value >= v
    above = np.array([c in UPPER for c in censors])  # true value <= v
    with np.errstate(invalid="ignore"):
        smallest = float(np.median(np.where(above, -np.inf, v)))
        largest = float(np.median(np.where(below, np.inf, v)))
    if smallest == largest and math.isfinite(smallest):
        return smallest, ""
    if math.isfinite(smallest):
        return smallest, lower
    if math.isfinite(largest):
        return largest, "<="
    return math.nan, "undetermined"


def thresholds(
    c: Curves, eps: Mapping[str, Sequence[float]], size: str = "n_params", by: str = PANEL
) -> pd.DataFrame:
    """``P_d(eps)`` (``size="n_params"``) or ``N_d(eps)`` (``"n_hidden"``) per ``by``
    group (panel), depth and eps: the median over replicates of each replicate's own
    crossing, on its monotone (isotonic) curve at the cells' chosen rates.

    ``eps`` maps each instance to its thresholds. Columns: ``panel``, ``instance``,
    ``n_train``, ``depth``, ``eps``, ``value`` and ``censor`` (:func:`censored_median`),
    ``lo``/``hi``/``coverage`` (the order-statistic interval of that median, replicates
    that never cross counted at the grid's edge; NaN when ``value`` is censored), and
    ``replicates`` (per-replicate ``(value, censor)`` keyed by replicate, for
    :func:`efficiency`).
    """
    rows = []
    for (panel, depth), part in c.points.groupby([by, "depth"], sort=True):
        part = part.sort_values(size)
        x = part[size].to_numpy(float)
        own = c.per_replicate.loc[part.index]  # [cells, replicates]
        curves = {r: monotone(own[r].to_numpy(float)) for r in own.columns if own[r].notna().any()}
        instance = part[INSTANCE].iloc[0]
        for e in eps[instance]:
            reps = {r: crossing(x, y, e) for r, y in curves.items()}
            value, censor = censored_median(
                [v for v, _ in reps.values()], [c for _, c in reps.values()], ">"
            )
            lo, hi, cover = (
                median_interval(np.array([v for v, _ in reps.values()]))
                if censor == ""
                else (np.nan,) * 3
            )
            rows.append(
                {
                    PANEL: panel,
                    INSTANCE: instance,
                    "n_train": part["n_train"].iloc[0],
                    "depth": depth,
                    "eps": e,
                    "value": value,
                    "censor": censor,
                    "lo": lo,
                    "hi": hi,
                    "coverage": cover,
                    "replicates": reps,
                }
            )
    return pd.DataFrame(
        rows,
        columns=[
            PANEL,
            INSTANCE,
            "n_train",
            "depth",
            "eps",
            "value",
            "censor",
            "lo",
            "hi",
            "coverage",
            "replicates",
        ],
    )


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
    panel that also has depth 1 (docs/science.md, "Depth efficiency"): the median over
    replicates of each replicate's own ratio (:func:`ratio` of its P_1 and P_d, paired
    by replicate; :func:`censored_median`).

    Columns: ``panel``, ``instance``, ``n_train``, ``depth``, ``eps``, ``value``,
    ``censor``, ``lo``/``hi``/``coverage`` (the order-statistic interval of that
    median, bounds counted at their value; NaN for a censored or undetermined value),
    ``shallow``, ``deep`` (the medians P_1 and P_d beside it).
    """
    rows = []
    for (panel, e), part in thr.groupby([PANEL, "eps"], sort=True):
        one = part[part["depth"] == 1]
        if one.empty:
            continue
        one = one.iloc[0]
        for _, deep in part[part["depth"] > 1].iterrows():
            paired = [
                ratio(one["replicates"][r], deep["replicates"][r])
                for r in one["replicates"]
                if r in deep["replicates"]
            ]
            value, censor = censored_median([v for v, _ in paired], [c for _, c in paired], ">=")
            lo, hi, cover = (
                median_interval(np.array([v for v, _ in paired])) if censor == "" else (np.nan,) * 3
            )
            rows.append(
                {
                    PANEL: panel,
                    INSTANCE: one[INSTANCE],
                    "n_train": one["n_train"],
                    "depth": deep["depth"],
                    "eps": e,
                    "value": value,
                    "censor": censor,
                    "lo": lo,
                    "hi": hi,
                    "coverage": cover,
                    "shallow": one["value"],
                    "deep": deep["value"],
                }
            )
    return pd.DataFrame(
        rows,
        columns=[
            PANEL,
            INSTANCE,
            "n_train",
            "depth",
            "eps",
            "value",
            "censor",
            "lo",
            "hi",
            "coverage",
            "shallow",
            "deep",
        ],
    )
