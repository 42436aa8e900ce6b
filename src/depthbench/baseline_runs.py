"""The baselines of a job (``baselines=true``): which are still to compute, and their rows.

Per training-set size of the grid: ridge regression on the raw inputs (``linear``),
and for every budget that a one-hidden-layer MLP meets, random features of that width
with a ridge-fitted read-out (``random_features``, one draw per seed of the grid);
plus the rules the task declares (:meth:`depthbench.tasks.Task.rules`). Every
hyper-parameter is chosen on the validation draw (:mod:`depthbench.baselines`).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from depthbench import baselines, grid, models
from depthbench.config import RunSpec
from depthbench.draws import Split
from depthbench.rows import untrained_row
from depthbench.seeding import derive_seed, digest
from depthbench.tasks import Task
from depthbench.trainer import Data

log = logging.getLogger(__name__)

MAX_WIDTH = 4096  # random features wider than this are not fitted (a width^2 Gram matrix)


@dataclass(frozen=True)
class Planned:
    """One baseline row to compute: ``name``, and for random features its budget,
    width and seed; ``n_train`` is ``None`` for a rule (it fits nothing)."""

    name: str
    run_id: str
    n_train: int | None
    budget: int | None = None
    width: int | None = None
    seed: int | None = None


def _activation(spec: RunSpec) -> str:
    return str(spec.model_params.get("activation", "relu"))


def plan(spec: RunSpec, task: Task, stored: set[str]) -> list[Planned]:
    """The baselines of ``spec``'s grid whose ``run_id`` is not in ``stored``."""
    identity = grid.data_identity(spec)
    out = [Planned(name, digest({**identity, "baseline": name}), None) for name in task.rules()]
    for n_train in spec.grid.n_train:
        out.append(
            Planned(
                "linear", digest({**identity, "baseline": "linear", "n_train": n_train}), n_train
            )
        )
        for budget in spec.grid.budgets:
            fit = models.fit("mlp", task.input_shape, task.output_dim, 1, budget)
            if not fit.feasible or fit.width is None:
                continue
            if fit.width > MAX_WIDTH:
                log.info(
                    "random features at budget %d: width %d > %d, not fitted",
                    budget,
                    fit.width,
                    MAX_WIDTH,
                )
                continue
            for seed in range(spec.grid.seeds):
                key = {
                    **identity,
                    "baseline": "random_features",
                    "n_train": n_train,
                    "budget": budget,
                    "seed": seed,
                    "activation": _activation(spec),
                }
                out.append(
                    Planned("random_features", digest(key), n_train, budget, fit.width, seed)
                )
    return [p for p in out if p.run_id not in stored]


def evaluate(
    spec: RunSpec, task: Task, data: Data, bayes: float | None, planned: list[Planned]
) -> list[dict[str, Any]]:
    """Fit and evaluate ``planned`` on the CPU draws ``data``; one row each."""
    rows = []
    for p in planned:
        rows_of = data.block(p.n_train if p.n_train is not None else data.blocks[-1].n_train)
        train = slice(rows_of.start, rows_of.start + rows_of.size)
        split = Split(
            data.x_train[train],
            data.y_train[train],
            data.x_val,
            data.y_val,
            data.x_test,
            data.y_test,
        )
        start = time.perf_counter()
        activation = None
        if p.name == "linear":
            fitted = baselines.linear(split, task.kind, task.n_classes)
        elif p.name == "random_features":
            assert p.width is not None and p.seed is not None
            activation = _activation(spec)
            fitted = baselines.random_features(
                split,
                task.kind,
                task.n_classes,
                p.width,
                activation,
                derive_seed(p.seed, "random_features"),
            )
        else:
            fitted = baselines.rule(split, p.name, task.rules()[p.name], task.kind)
        took = time.perf_counter() - start
        rows.append(
            untrained_row(
                p.run_id,
                "baseline",
                bayes,
                model=p.name,
                activation=activation,
                depth=1 if p.width else 0,
                width=p.width,
                n_params=fitted.n_params,
                n_hidden=fitted.n_hidden,
                val_metric=fitted.val_metric,
                test_metric=fitted.test_metric,
                train_time_s=took,
                eval_time_s=0.0,
                budget=p.budget,
                scale=fitted.gain,
                ridge=fitted.ridge,
                n_train=p.n_train,
                seed=p.seed,
                train_loss=fitted.train_loss,
                val_loss=fitted.val_loss,
                test_loss=fitted.test_loss,
            )
        )
    log.info("baselines: %d rows (%s)", len(rows), ", ".join(sorted({p.name for p in planned})))
    return rows
