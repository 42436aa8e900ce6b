"""The constructors of result rows, one per kind, in the columns of
:data:`depthbench.schema.SCHEMA`.

Trained and infeasible runs: :func:`run_columns` (identity) with
:func:`trained_outcome` or :func:`infeasible_outcome`. Constructions and baselines:
:func:`untrained_row` fills every outcome column such a row has, so that run code
states only what differs, and :func:`single_rows` turns those rows into columns.
:func:`frame` completes any of them with the task's and the job's columns.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from depthbench import config, schema
from depthbench.grid import Run
from depthbench.tasks import Task
from depthbench.trainer import GroupResult

NAN = float("nan")
INTEGER = ("width", "budget", "n_params", "n_hidden", "n_train", "seed", "batch_size")


def untrained_row(
    run_id: str,
    status: str,
    bayes: float | None,
    *,
    model: str,
    activation: str | None,
    depth: int,
    width: int | None,
    n_params: int,
    n_hidden: int,
    val_metric: float,
    test_metric: float,
    train_time_s: float,
    eval_time_s: float,
    budget: int | None = None,
    scale: float = NAN,
    ridge: float = NAN,
    n_train: int | None = None,
    seed: int | None = None,
    train_loss: float = NAN,
    val_loss: float = NAN,
    test_loss: float = NAN,
) -> dict[str, Any]:
    """One row of a constructed network or a baseline (``status``): nothing trained by
    gradient steps, so no learning rate, schedule, steps or loss curve. Each of its
    ``n_params`` is used once per sample (dense layers), so its forward FLOPs are
    ``2 n_params``; none where it has no parameter (a task's rules)."""
    return {
        "model": model,
        "model.activation": activation,
        "depth": depth,
        "width": width,
        "budget": budget,
        "n_params": n_params,
        "n_hidden": n_hidden,
        "scale": scale,
        "ridge": ridge,
        "n_train": n_train,
        "seed": seed,
        "lr": NAN,
        "schedule": None,
        "batch_size": None,
        "cell_id": run_id,
        "run_id": run_id,
        "train_loss": train_loss,
        "val_loss": val_loss,
        "val_metric": val_metric,
        "test_loss": test_loss,
        "test_metric": test_metric,
        "bayes_metric": NAN if bayes is None else bayes,
        "status": status,
        "reason": None,
        "steps": 0,
        "converged": None,
        "loss_steps": None,
        "loss_curve": None,
        "train_time_s": train_time_s,
        "eval_time_s": eval_time_s,
        "flops": NAN,
        "forward_flops": 2.0 * n_params if n_params else NAN,
        "group_size": 1,
    }


def single_rows(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Rows (dicts with the same keys) -> columns, integer columns nullable."""
    columns: dict[str, Any] = {key: [row[key] for row in rows] for key in rows[0]}
    for key in INTEGER:
        columns[key] = pd.array(columns[key], dtype="Int64")
    columns["converged"] = pd.array(columns["converged"], dtype="boolean")
    return columns


def infeasible_outcome(runs: list[Run]) -> dict[str, Any]:
    """Outcome columns of runs whose width cannot meet their budget (``reason`` says why)."""
    nan = [float("nan")] * len(runs)
    return {
        "train_loss": nan,
        "val_loss": nan,
        "val_metric": nan,
        "test_loss": nan,
        "test_metric": nan,
        "bayes_metric": nan,
        "status": ["infeasible"] * len(runs),
        "reason": [r.fit.reason for r in runs],
        "steps": [0] * len(runs),
        "converged": pd.array([None] * len(runs), dtype="boolean"),
        "loss_steps": [None] * len(runs),
        "loss_curve": [None] * len(runs),
        "train_time_s": [0.0] * len(runs),
        "eval_time_s": [0.0] * len(runs),
        "flops": [0.0] * len(runs),
        "group_size": [0] * len(runs),
    }


def _diverged(diverged: bool, curve: np.ndarray) -> str | None:
    """The reason a member diverged (``curve``: its training loss curve), or None."""
    if not diverged:
        return None
    if not np.isfinite(curve).all():
        return "loss became non-finite"
    return "outputs became non-finite on the validation or test draw (training loss finite)"


def trained_outcome(
    spec: config.RunSpec, runs: list[Run], out: GroupResult, bayes: float | None
) -> dict[str, Any]:
    """Outcome columns of a trained group's members: ``diverged`` where the training
    loss or the weights became non-finite (the reason says which), else ``ok``; costs
    split evenly over the members; ``flops``: a training step's sample costs about three
    forward passes (forward and backward), an evaluated sample one."""
    K = len(runs)
    samples = spec.train.batch_size * spec.train.steps
    flops = [
        float((r.fit.forward_flops or 0) * (3 * samples + r.member.n_train + spec.train.n_test))
        for r in runs
    ]
    return {
        "train_loss": out.train_loss.tolist(),
        "val_loss": out.val_loss.tolist(),
        "val_metric": out.val_metric.tolist(),
        "test_loss": out.test_loss.tolist(),
        "test_metric": out.test_metric.tolist(),
        "bayes_metric": [float("nan") if bayes is None else bayes] * K,
        "status": ["diverged" if d else "ok" for d in out.diverged],
        "reason": [_diverged(d, curve) for d, curve in zip(out.diverged, out.curve)],
        "steps": out.steps.tolist(),
        "converged": pd.array(out.converged.tolist(), dtype="boolean"),
        "loss_steps": [out.curve_steps] * K,
        "loss_curve": out.curve.tolist(),
        "train_time_s": [out.train_time_s / K] * K,
        "eval_time_s": [out.eval_time_s / K] * K,
        "flops": flops,
        "group_size": [K] * K,
    }


def run_columns(spec: config.RunSpec, runs: list[Run]) -> dict[str, Any]:
    """Identity columns of trained (or infeasible) runs."""
    return {
        "model": spec.model,
        **{f"model.{k}": v for k, v in spec.model_params.items()},
        "depth": [r.depth for r in runs],
        "width": pd.array([r.fit.width for r in runs], dtype="Int64"),
        "budget": pd.array([r.budget for r in runs], dtype="Int64"),
        "n_params": pd.array([r.fit.n_params for r in runs], dtype="Int64"),
        "n_hidden": pd.array([r.fit.n_hidden for r in runs], dtype="Int64"),
        "forward_flops": [
            NAN if r.fit.forward_flops is None else float(r.fit.forward_flops) for r in runs
        ],
        "scale": float("nan"),
        "ridge": float("nan"),
        "n_train": [r.member.n_train for r in runs],
        "seed": pd.array([r.member.seed for r in runs], dtype="Int64"),
        "lr": [r.member.lr for r in runs],
        "schedule": spec.train.schedule.describe(),
        "batch_size": pd.array([spec.train.batch_size] * len(runs), dtype="Int64"),
        "cell_id": [r.cell_id for r in runs],
        "run_id": [r.run_id for r in runs],
    }


def frame(
    spec: config.RunSpec, task: Task, columns: dict[str, Any], common: dict[str, Any]
) -> pd.DataFrame:
    """Rows: the task's identity and theory, ``columns``, the job's settings and
    provenance (``common``)."""
    return pd.DataFrame(
        {
            "task": spec.task,
            **{
                f"task.{k}": json.dumps(v) if isinstance(v, list) else v
                for k, v in task.params.items()
            },
            **{schema.theory_column(k): v for k, v in task.theory().items()},
            "protocol": schema.DEFAULT_PROTOCOL,
            "base_run_id": None,
            **columns,
            "chance": task.chance,
            "n_val": spec.train.n_val,
            "n_test": spec.train.n_test,
            "data_seed": spec.data_seed,
            "schema_version": schema.SCHEMA_VERSION,
            **common,
        }
    )
