"""``P_d(eps)``, ``N_d(eps)`` and depth efficiency ``E_d(eps) = P_1(eps) / P_d(eps)``
(docs/science.md, "Thresholds P_d and N_d", "Depth efficiency", "Censoring"), with
censoring and intervals over replicates.

Each replicate's curve (test_metric against size at the cells' chosen rates) is read
through its running minimum (a larger net can emulate a smaller one), and its
P_d(eps) is the first size where that reaches eps, interpolated log-log. The headline
value is the interval-censored median over replicates of their crossings (or paired
ratios, :mod:`depthbench.analysis.censoring`); its interval is the order-statistic
interval of that median with its open ends marked, labelled by its true coverage.
The crossing of an isotonic fit is kept beside it as a robustness column.

Censoring (column ``censor``): ``""`` exact; ``">"`` eps was not reached on the grid,
the value is the largest size tried (a lower bound); ``"<="`` eps was already reached
at the smallest size tried (an upper bound); ``"in"`` the replicates place the median
in ``[value, value_hi]``; ``"undetermined"``. Censored values are kept, never dropped.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from depthbench.analysis.cells import INSTANCE, PANEL, Curves
from depthbench.analysis.censoring import (
    Replicate,
    above,
    bounds,
    censored_interval,
    censored_median,
    sign_test,
    summarise,
)
from depthbench.analysis.intervals import isotonic_decreasing

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


def running_min(y: np.ndarray) -> np.ndarray:
    """``y`` ``[k]`` (ascending size) as its running minimum: the best value at this
    size or any smaller one, since a larger net can emulate a smaller one
    (docs/science.md, "Thresholds P_d and N_d"); NaNs (sizes not trained) stay NaN."""
    y = np.asarray(y, float)
    best = np.fmin.accumulate(y)
    best[np.isnan(y)] = np.nan
    return best


def isotonic(y: np.ndarray) -> np.ndarray:
    """``y`` ``[k]`` (ascending size) made non-increasing by an isotonic fit of
    ``log y``; NaNs stay NaN. Only for the robustness columns ``isotonic``: pooling
    lifts an early crossing where the error rises again with size."""
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


SUMMARY = [
    "value",
    "censor",
    "value_hi",
    "lo",
    "lo_censor",
    "hi",
    "hi_censor",
    "coverage",
]  # columns of :func:`summary`, in order
BRACKETED = "yes"


def summary(replicates: Mapping[str, Replicate]) -> dict[str, object]:
    """The columns :data:`SUMMARY` of one censored median over ``replicates``
    (:func:`~depthbench.analysis.censoring.censored_median` and its
    :func:`~depthbench.analysis.censoring.censored_interval`), and ``replicates``
    itself (replicate key -> ``(value, censor)``)."""
    reps = list(replicates.values())
    median = censored_median(reps)
    spread = censored_interval(reps)
    return {
        "value": median.value,
        "censor": median.censor,
        "value_hi": median.value_hi,
        "lo": spread.lo,
        "lo_censor": spread.lo_censor,
        "hi": spread.hi,
        "hi_censor": spread.hi_censor,
        "coverage": spread.coverage,
        "replicates": dict(replicates),
    }


def bracket(y: np.ndarray, eps: float) -> str:
    """Whether a curve ``y`` ``[k]`` over ascending sizes brackets ``eps``:
    :data:`BRACKETED` when its first value is above eps and its running minimum
    reaches eps, ``"reached at the smallest size"``, ``"not reached"``, or
    ``"no cells"``. Only a bracketed eps is read for a verdict (docs/science.md)."""
    y = np.asarray(y, float)
    y = y[~np.isnan(y)]
    if not len(y):
        return "no cells"
    if y[0] <= eps:
        return "reached at the smallest size"
    return BRACKETED if y.min() <= eps else "not reached"


def thresholds(
    c: Curves, eps: Mapping[str, Sequence[float]], size: str = "n_params", by: str = PANEL
) -> pd.DataFrame:
    """``P_d(eps)`` (``size="n_params"``) or ``N_d(eps)`` (``"n_hidden"``) per ``by``
    group (panel), depth and eps: the interval-censored median over replicates of each
    replicate's first crossing of its running minimum (:func:`running_min`,
    :func:`crossing`) at the cells' chosen rates (docs/science.md, "Thresholds P_d and
    N_d").

    ``eps`` maps each instance to its thresholds. Columns: ``panel``, ``instance``,
    ``n_train``, ``depth``, ``eps``, the :data:`SUMMARY` columns and ``replicates``
    (:func:`summary`), ``bracket`` (:func:`bracket` of the cells' median curve), and
    ``isotonic``, ``isotonic_censor``, ``isotonic_replicates``: the same median from
    crossings of each replicate's isotonic fit (:func:`isotonic`), a robustness column.
    """
    rows = []
    for (panel, depth), part in c.points.groupby([by, "depth"], sort=True):
        part = part.sort_values(size)
        x = part[size].to_numpy(float)
        own = c.per_replicate.loc[part.index]  # [cells, replicates]
        curves = {r: own[r].to_numpy(float) for r in own.columns if own[r].notna().any()}
        instance = part[INSTANCE].iloc[0]
        for e in eps[instance]:
            smoothed = {r: crossing(x, isotonic(y), e) for r, y in curves.items()}
            pooled = censored_median(list(smoothed.values()))
            rows.append(
                {
                    PANEL: panel,
                    INSTANCE: instance,
                    "n_train": part["n_train"].iloc[0],
                    "depth": depth,
                    "eps": e,
                    **summary({r: crossing(x, running_min(y), e) for r, y in curves.items()}),
                    "bracket": bracket(part["tuned"].to_numpy(float), e),
                    "isotonic": pooled.value,
                    "isotonic_censor": pooled.censor,
                    "isotonic_replicates": smoothed,
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
            *SUMMARY,
            "replicates",
            "bracket",
            "isotonic",
            "isotonic_censor",
            "isotonic_replicates",
        ],
    )


def ratio(shallow: Replicate, deep: Replicate) -> Replicate:
    """``P_1 / P_d`` by interval arithmetic on censored inputs: exact (``""``), a lower
    bound (``">="``), an upper bound (``"<="``) or ``"undetermined"`` (NaN)."""
    lo1, hi1 = bounds(*shallow)
    lod, hid = bounds(*deep)
    low = lo1 / hid if hid > 0 else math.inf
    high = hi1 / lod if lod > 0 else math.inf
    found = summarise(low, high, ">=")
    return found.value, found.censor


def _paired(one: Mapping[str, Replicate], deep: Mapping[str, Replicate]) -> dict[str, Replicate]:
    """Per replicate key both depths share: the ratio of its two sizes."""
    return {r: ratio(one[r], deep[r]) for r in one if r in deep}


def efficiency(thr: pd.DataFrame) -> pd.DataFrame:
    """Depth efficiency ``E_d(eps) = P_1(eps) / P_d(eps)`` for every depth d > 1 of a
    panel that also has depth 1 (docs/science.md, "Depth efficiency"): the
    interval-censored median over replicates of each replicate's own ratio (:func:`ratio`
    of its P_1 and P_d, paired by replicate), and a one-sided sign test of E_d > 1 over
    those pairs where the eps is bracketed for both depths.

    Columns: ``panel``, ``instance``, ``n_train``, ``depth``, ``eps``, the
    :data:`SUMMARY` columns and ``replicates`` (:func:`summary`), ``bracketed`` (both
    depths' curves bracket eps: only then is a verdict read), ``above``/``paired`` (pairs
    certainly above 1, pairs), ``p`` (:func:`~depthbench.analysis.censoring.sign_test`;
    NaN where not bracketed), ``isotonic``/``isotonic_censor`` (the robustness column),
    ``shallow``, ``deep`` (the medians P_1 and P_d beside it).
    """
    rows = []
    for (panel, e), part in thr.groupby([PANEL, "eps"], sort=True):
        one = part[part["depth"] == 1]
        if one.empty:
            continue
        one = one.iloc[0]
        for _, deep in part[part["depth"] > 1].iterrows():
            paired = _paired(one["replicates"], deep["replicates"])
            pooled = censored_median(
                list(_paired(one["isotonic_replicates"], deep["isotonic_replicates"]).values())
            )
            bracketed = one["bracket"] == deep["bracket"] == BRACKETED
            k, n = above(list(paired.values()))
            rows.append(
                {
                    PANEL: panel,
                    INSTANCE: one[INSTANCE],
                    "n_train": one["n_train"],
                    "depth": deep["depth"],
                    "eps": e,
                    **summary(paired),
                    "bracketed": bracketed,
                    "above": k,
                    "paired": n,
                    "p": sign_test(k, n) if bracketed else math.nan,
                    "isotonic": pooled.value,
                    "isotonic_censor": pooled.censor,
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
            *SUMMARY,
            "replicates",
            "bracketed",
            "above",
            "paired",
            "p",
            "isotonic",
            "isotonic_censor",
            "shallow",
            "deep",
        ],
    )
