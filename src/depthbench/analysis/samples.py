"""Sample complexity: the training-set size at which a depth learns a task.

Following Cagnetta et al. (PRX 2024), a task is *learned* when the test error falls
below 10% of the chance error; the size is interpolated log-log between the grid's
``n_train`` values and censored like ``P_d`` (:mod:`depthbench.analysis.efficiency`).
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from depthbench.analysis.cells import INSTANCE, Curves
from depthbench.analysis.efficiency import SUMMARY, crossing, running_min, summary

LEARNED = 0.1  # fraction of chance below which a task counts as learned
LEARNED_TEXT = f"{LEARNED:.0%} of chance"  # the threshold as the report names it


def sample_complexity(c: Curves, chance: Mapping[str, float]) -> pd.DataFrame:
    """Per instance, depth and budget with at least two ``n_train`` values: the
    smallest n_train with selected test_metric <= ``LEARNED * chance``: the
    interval-censored median over replicates of each replicate's first crossing of its
    running minimum over n_train, as P_d (:mod:`depthbench.analysis.efficiency`).

    Columns: ``instance``, ``depth``, ``budget``, ``n_params`` and ``forward_flops``
    (of the net at that budget, so architectures compare at matched parameters and at
    matched compute), ``eps``, the :data:`~depthbench.analysis.efficiency.SUMMARY`
    columns and ``replicates`` (:func:`~depthbench.analysis.efficiency.summary`),
    ``sizes`` (n_train values on the grid).
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
        reps = {
            r: crossing(x, running_min(own[r].to_numpy(float)), eps)
            for r in own.columns
            if own[r].notna().any()
        }
        rows.append(
            {
                INSTANCE: instance,
                "depth": depth,
                "budget": budget,
                "n_params": part["n_params"].iloc[0],
                "forward_flops": part["forward_flops"].iloc[0],
                "eps": eps,
                **summary(reps),
                "sizes": len(x),
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            INSTANCE,
            "depth",
            "budget",
            "n_params",
            "forward_flops",
            "eps",
            *SUMMARY,
            "replicates",
            "sizes",
        ],
    )
