"""``P_d(eps)``, ``N_d(eps)`` and depth efficiency ``E_d(eps) = P_1(eps) / P_d(eps)``
(SCIENCE.md, "Core definitions"), with censoring and bootstrap intervals.

Censoring (column ``censor``): ``""`` exact; ``">"`` eps was not reached on the grid,
the value is the largest size tried (a lower bound); ``"<="`` eps was already reached
at the smallest size tried (an upper bound). Censored values are kept, never dropped.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from depthbench.analysis.cells import INSTANCE, PANEL, Curves, interval

FLOOR = 1e-12  # test_metric can be 0 (no test error); logs are taken of max(value, FLOOR)
EPS_FRACTIONS = (0.5, 0.2, 0.1)  # default eps, as fractions of chance


def default_eps(chance: float) -> list[float]:
    """The default thresholds of a task: :data:`EPS_FRACTIONS` of its chance level."""
    return [f * chance for f in EPS_FRACTIONS]


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
    group (panel), depth and eps.

    ``eps`` maps each instance to its thresholds. Columns: ``panel``, ``instance``,
    ``n_train``, ``depth``, ``eps``, ``value``, ``censor``, ``lo``/``hi`` (bootstrap
    interval; censored replicates count at their bound) and ``replicates``
    (``[reps]`` array, for :func:`efficiency`).
    """
    rows = []
    for (panel, depth), part in c.points.groupby([by, "depth"], sort=True):
        part = part.sort_values(size)
        x = part[size].to_numpy(float)
        boot = c.replicates[:, part.index.to_numpy()]  # [reps, cells]
        instance = part[INSTANCE].iloc[0]
        for e in eps[instance]:
            value, censor = crossing(x, part["tuned"].to_numpy(float), e)
            reps = np.array([crossing(x, b, e)[0] for b in boot])
            lo, hi = interval(reps)
            rows.append({PANEL: panel, INSTANCE: instance, "n_train": part["n_train"].iloc[0],
                         "depth": depth, "eps": e, "value": value, "censor": censor,
                         "lo": float(lo), "hi": float(hi), "replicates": reps})
    return pd.DataFrame(rows, columns=[PANEL, INSTANCE, "n_train", "depth", "eps", "value",
                                       "censor", "lo", "hi", "replicates"])


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
    ``censor`` (see :func:`ratio`), ``lo``/``hi`` (bootstrap interval of the ratio of
    replicates, censored ones at their bound), ``shallow``, ``deep`` (the two sizes).
    """
    rows = []
    for (panel, e), part in thr.groupby([PANEL, "eps"], sort=True):
        one = part[part["depth"] == 1]
        if one.empty:
            continue
        one = one.iloc[0]
        for _, deep in part[part["depth"] > 1].iterrows():
            value, censor = ratio((one["value"], one["censor"]), (deep["value"], deep["censor"]))
            with np.errstate(all="ignore"):
                lo, hi = interval(one["replicates"] / deep["replicates"])
            rows.append({PANEL: panel, INSTANCE: one[INSTANCE], "n_train": one["n_train"],
                         "depth": deep["depth"], "eps": e, "value": value, "censor": censor,
                         "lo": float(lo), "hi": float(hi), "shallow": one["value"],
                         "deep": deep["value"]})
    return pd.DataFrame(rows, columns=[PANEL, INSTANCE, "n_train", "depth", "eps", "value",
                                       "censor", "lo", "hi", "shallow", "deep"])
