"""Result rows of models that are not trained here: constructions and baselines.

:func:`untrained_row` fills every outcome column such a row has, so that run code
states only what differs; :func:`single_rows` turns rows into the column dict that
:func:`depthbench.run._store` completes with the task's and the job's columns.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

NAN = float("nan")
INTEGER = ("width", "budget", "n_params", "n_hidden", "n_train", "seed", "batch_size")


def untrained_row(
    run_id: str, status: str, bayes: float | None, *, model: str, activation: str | None,
    depth: int, width: int | None, n_params: int, n_hidden: int, val_metric: float,
    test_metric: float, train_time_s: float, eval_time_s: float, budget: int | None = None,
    scale: float = NAN, ridge: float = NAN, n_train: int | None = None, seed: int | None = None,
    train_loss: float = NAN, val_loss: float = NAN, test_loss: float = NAN,
) -> dict[str, Any]:
    """One row of a constructed network or a baseline (``status``): nothing trained by
    gradient steps, so no learning rate, schedule, steps or loss curve."""
    return {
        "model": model, "model.activation": activation, "depth": depth, "width": width,
        "budget": budget, "n_params": n_params, "n_hidden": n_hidden, "scale": scale,
        "ridge": ridge, "n_train": n_train, "seed": seed, "lr": NAN, "schedule": None,
        "batch_size": None, "cell_id": run_id, "run_id": run_id,
        "train_loss": train_loss, "val_loss": val_loss, "val_metric": val_metric,
        "test_loss": test_loss, "test_metric": test_metric,
        "bayes_metric": NAN if bayes is None else bayes, "status": status, "reason": None,
        "steps": 0, "converged": None, "loss_steps": None, "loss_curve": None,
        "train_time_s": train_time_s, "eval_time_s": eval_time_s, "flops": NAN, "group_size": 1,
    }


def single_rows(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Rows (dicts with the same keys) -> columns, integer columns nullable."""
    columns: dict[str, Any] = {key: [row[key] for row in rows] for key in rows[0]}
    for key in INTEGER:
        columns[key] = pd.array(columns[key], dtype="Int64")
    columns["converged"] = pd.array(columns["converged"], dtype="boolean")
    return columns
