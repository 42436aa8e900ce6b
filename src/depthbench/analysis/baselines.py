"""Baselines beside trained networks: their curves, and the cells they beat.

A baseline (``status=baseline``: ridge on the raw inputs, random features with a
fitted read-out, a task's own rule) has every hyper-parameter chosen on validation
when it is stored. A trained cell that a baseline of no more parameters beats on test
measures the optimiser, not the architecture: :func:`beaten_by` names those cells.
"""

from __future__ import annotations

import pandas as pd

from depthbench.analysis.cells import INSTANCE, TASK
from depthbench.schema import BUDGET_TOLERANCE

SAME_SIZE = 1 + BUDGET_TOLERANCE  # "the same size" up to what a budget's width may miss


def baseline_curves(df: pd.DataFrame) -> pd.DataFrame:
    """One row per baseline, task instance, n_train (empty for rules) and budget (empty
    for linear models and rules): ``n_params``, ``n_hidden``, median ``test_metric`` and
    ``val_metric`` over its seeds, ``replicates``."""
    columns = [
        TASK,
        "n_train",
        "baseline",
        "budget",
        "n_params",
        "n_hidden",
        "test_metric",
        "val_metric",
        "replicates",
    ]
    rows = df[df["status"] == "baseline"]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    grouped = rows.groupby([TASK, "n_train", "model", "budget"], dropna=False, sort=True)
    table = grouped.agg(
        n_params=("n_params", "first"),
        n_hidden=("n_hidden", "first"),
        test_metric=("test_metric", "median"),
        val_metric=("val_metric", "median"),
        replicates=("test_metric", "size"),
    ).reset_index()
    return table.rename(columns={"model": "baseline"})[columns]


def beaten_by(cells: pd.DataFrame, df: pd.DataFrame, base: pd.DataFrame) -> pd.Series:
    """Per trained cell: the baselines with at most :data:`SAME_SIZE` times its
    parameters (same task instance and n_train, or a rule) whose median test_metric is
    below the cell's selected value, as ``name (value)`` text; ``""`` when none."""
    if base.empty or cells.empty:
        return pd.Series([""] * len(cells), index=cells.index, dtype=object)
    task_of = df.drop_duplicates(INSTANCE).set_index(INSTANCE)[TASK]
    out = []
    for _, cell in cells.iterrows():
        same = base[
            (base[TASK] == task_of.get(cell[INSTANCE]))
            & (base["n_train"].isna() | base["n_train"].eq(cell["n_train"]).fillna(False))
            & (base["n_params"] <= SAME_SIZE * cell["n_params"])
            & (base["test_metric"] < cell["tuned"])
        ]
        best = same.sort_values("test_metric").drop_duplicates("baseline")
        out.append(
            ", ".join(f"{b} ({v:.3g})" for b, v in zip(best["baseline"], best["test_metric"]))
        )
    return pd.Series(out, index=cells.index, dtype=object)
