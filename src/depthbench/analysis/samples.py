"""Sample complexity: the training-set size at which a depth learns a task.

Following Cagnetta et al. (PRX 2024), a task is *learned* when the test error falls
below 10% of the chance error; the size is interpolated log-log between the grid's
``n_train`` values and censored like ``P_d`` (:mod:`depthbench.analysis.efficiency`).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from depthbench.analysis.cells import INSTANCE, Curves
from depthbench.analysis.efficiency import censored_median, crossing, monotone
from depthbench.analysis.intervals import median_interval

LEARNED = 0.1  # fraction of chance below which a task counts as learned
LEARNED_TEXT = f"{LEARNED:.0%} of chance"  # the threshold as the report names it


def sample_complexity(c: Curves, chance: Mapping[str, float]) -> pd.DataFrame:
    """Per instance, depth and budget with at least two ``n_train`` values: the
    smallest n_train with selected test_metric <= ``LEARNED * chance``: the median over
    replicates of each replicate's crossing on its curve made monotone in n_train
    (:func:`~depthbench.analysis.efficiency.monotone`).

    Columns: ``instance``, ``depth``, ``budget``, ``eps``, ``value``, ``censor``,
    ``lo``/``hi``/``coverage`` (interval of the median of per-replicate sizes; NaN when
    censored), ``sizes`` (n_train values on the grid).
    """
    rows = []
    sized = c.points[c.points["n_train"] > 0]  # online data has no training-set size
    for (instance, depth, budget), part in sized.groupby([INSTANCE, "depth", "budget"], sort=True):
        if part["n_train"].nunique() < 2:
            continue
        part = part.sort_values("n_train")
        x = part["n_train"].to_numpy(float)
        eps = LEARNED * chance[instance]
        own = c.per_replicate.loc[part.index]
        reps = [
            crossing(x, monotone(own[r].to_numpy(float)), eps)
            for r in own.columns
            if own[r].notna().any()
        ]
        value, censor = censored_median([v for v, _ in reps], [c for _, c in reps], ">")
        lo, hi, cover = (
            median_interval(np.array([v for v, _ in reps])) if censor == "" else (np.nan,) * 3
        )
        rows.append(
            {
                INSTANCE: instance,
                "depth": depth,
                "budget": budget,
                "eps": eps,
                "value": value,
                "censor": censor,
                "lo": lo,
                "hi": hi,
                "coverage": cover,
                "sizes": len(x),
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            INSTANCE,
            "depth",
            "budget",
            "eps",
            "value",
            "censor",
            "lo",
            "hi",
            "coverage",
            "sizes",
        ],
    )
