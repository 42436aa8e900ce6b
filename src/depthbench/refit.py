"""The best-effort fit of a job's trained cells (docs/science.md, "Best-effort fit").

After a job's grid is trained and stored, the members it refits (per cell, those at
the learning rate the job's replicates chose on validation) are trained again from
the same initialisation with ``best_effort.steps_factor`` times the steps under the
same schedule (the *steps check*), and the result is polished by float64 L-BFGS
(:mod:`depthbench.polish`). Each stage is stored as rows of their own, status
``refit``, ``protocol`` naming the stage and ``base_run_id`` the run refitted; the
analysis (:mod:`depthbench.analysis.fitness`) compares them with the default rows.

Which cells: ``all``, or ``deciding``: per depth and replicate, the cells next to
each declared eps's crossing of the running minimum of ``val_metric`` over the
budgets (the crossing cell and the one before it; the largest budget where the
replicate never crosses), read on validation so that the test draw chooses nothing.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
import torch

from depthbench import config, initial, models, results, rows
from depthbench.analysis.efficiency import resolve_eps
from depthbench.config import ONLINE
from depthbench.grid import Run
from depthbench.polish import polish_group
from depthbench.seeding import derive_seed, digest
from depthbench.tasks import Task
from depthbench.trainer import Data, Sampler, Scale, evaluate

STEPS, POLISH = "steps", "polish"


@dataclass(frozen=True)
class Stage:
    """A refit stage of one best-effort spec: its ``protocol`` label, stored in the rows."""

    name: str
    spec: config.BestEffortSpec

    @property
    def protocol(self) -> str:
        steps = f"adam x{self.spec.steps_factor} steps"
        if self.name == STEPS:
            return steps
        be = self.spec  # the online polish draw changes the numbers: part of the run_id
        return (
            f"{steps} + float64 L-BFGS ({be.polish_iters} iterations; online draw "
            f"{be.polish_per_param} a parameter, at most {be.polish_max})"
        )

    def run_id(self, base: str) -> str:
        return digest({"base_run_id": base, "protocol": self.protocol})


def chosen(trained: pd.DataFrame) -> pd.DataFrame:
    """The rows at each cell's chosen rate: the lowest mean ``val_metric`` over the
    job's replicates (a diverged member at chance), ties to the smaller rate."""
    val = trained["val_metric"].where(trained["status"] == "ok", trained["chance"])
    mean = trained.assign(val=val).groupby(["cell_id", "lr"])["val"].mean().reset_index()
    best = mean.sort_values(["cell_id", "val", "lr"]).groupby("cell_id").head(1)
    keys = pd.MultiIndex.from_frame(best[["cell_id", "lr"]])
    return trained[pd.MultiIndex.from_frame(trained[["cell_id", "lr"]]).isin(keys)]


def deciding(at_chosen: pd.DataFrame, eps: list[float]) -> set[str]:
    """``cell_id`` of the cells next to a crossing of any absolute threshold in ``eps``
    by any replicate's running minimum of ``val_metric`` over budgets (module doc)."""
    cells: set[str] = set()
    for _, curve in at_chosen.groupby(["depth", "n_train", "seed"]):
        curve = curve.sort_values("n_params")
        val = curve["val_metric"].where(curve["status"] == "ok", curve["chance"]).to_numpy()
        best = np.minimum.accumulate(np.nan_to_num(val, nan=np.inf))
        ids = curve["cell_id"].to_list()
        for e in eps:
            hit = np.flatnonzero(best <= e)
            cells.update(ids[max(0, hit[0] - 1) : hit[0] + 1] if len(hit) else ids[-1:])
    return cells


def plan(
    spec: config.RunSpec, runs: list[Run], stored: pd.DataFrame, eps: list[float]
) -> list[tuple[int, int, list[Run]]]:
    """``(depth, width, runs)`` to refit: the chosen members of the cells
    ``best_effort.cells`` names whose refit rows are not stored yet."""
    if spec.best_effort.cells == "none":
        return []
    ids = {r.run_id for r in runs}
    mine = stored[stored["run_id"].isin(ids) & stored["status"].isin(["ok", "diverged"])]
    at = chosen(mine)
    if spec.best_effort.cells == "deciding":
        at = at[at["cell_id"].isin(deciding(at, eps))]
    last = Stage(POLISH, spec.best_effort)
    done = set(stored.loc[stored["status"] == "refit", "run_id"])
    todo = [r for r in runs if r.run_id in set(at["run_id"]) and last.run_id(r.run_id) not in done]
    shaped: dict[tuple[int, int, bool], list[Run]] = {}  # online and drawn never share a group
    for r in todo:
        assert r.fit.width is not None
        shaped.setdefault((r.depth, r.fit.width, r.member.n_train == ONLINE), []).append(r)
    return [(d, w, members) for (d, w, _), members in shaped.items()]


def stored_rows(spec: config.RunSpec) -> pd.DataFrame:
    """The store's rows (those the refit plan reads)."""
    if not spec.results_dir.is_dir():
        return pd.DataFrame(columns=["run_id", "status"])
    return results.load(spec.results_dir, conflicts="warn")


def execute(
    spec: config.RunSpec,
    task: Task,
    data: Data,
    bayes: float | None,
    work: list[tuple[int, int, list[Run]]],
    online: Sampler | None,
) -> Iterator[dict[str, Any]]:
    """The columns of each refit group's rows, steps check then polish, as computed."""
    longer = replace(
        spec, train=replace(spec.train, steps=spec.train.steps * spec.best_effort.steps_factor)
    )
    for depth, width, members in work:
        is_online = members[0].member.n_train == ONLINE
        model, outcome = initial.train_fresh(
            spec, task, data, (depth, width), members, longer.train.steps,
            online if is_online else None,
        )  # fmt: skip
        trained = rows.trained_outcome(longer, members, outcome, bayes)
        yield trained | _stage_columns(longer, Stage(STEPS, spec.best_effort), members)
        yield _polished(spec, task, data, bayes, model, members)


def _stage_columns(spec: config.RunSpec, stage: Stage, members: list[Run]) -> dict[str, Any]:
    """Identity columns of ``members``' rows of ``stage`` (status ``refit``)."""
    return rows.run_columns(spec, members) | {
        "run_id": [stage.run_id(r.run_id) for r in members],
        "base_run_id": [r.run_id for r in members],
        "protocol": stage.protocol,
        "status": "refit",
    }


def polish_draws(
    spec: config.RunSpec, task: Task, data: Data, members: list[Run]
) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Each member's polish batch (:func:`polish_draw`)."""
    return [polish_draw(spec, task, data, r.member.n_train, r.fit.n_params or 0) for r in members]


def polish_draw(
    spec: config.RunSpec, task: Task, data: Data, n_train: int, n_params: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """The polish batch ``(x [N, input_dim], target [N])`` in the loss's units of a
    network of ``n_params`` trained on ``n_train``: that training draw, or online one
    fixed draw of ``best_effort.polish_per_param`` samples a parameter (at most
    ``best_effort.polish_max``), seeded by ``data_seed`` apart from every other draw;
    on the data's device."""
    block = data.block(n_train)
    if n_train == ONLINE:
        size = min(spec.best_effort.polish_max, spec.best_effort.polish_per_param * n_params)
        x, y = task.sample(size, derive_seed(spec.data_seed, "polish", size))
    else:
        x = data.x_train[block.start : block.start + block.size].cpu()
        y = data.y_train[block.start : block.start + block.size].cpu()
    target = Scale.of(data.kind, [block], torch.device("cpu")).target(y)[0]
    return x.to(data.x_train.device), target.to(data.x_train.device)


def _polished(
    spec: config.RunSpec,
    task: Task,
    data: Data,
    bayes: float | None,
    model: models.BatchedModel,
    members: list[Run],
) -> dict[str, Any]:
    """Polish the refit ``model`` (its members ``members``) and evaluate it: the
    polish stage's columns. ``train_loss`` is the loss on the polish draw, ``steps``
    the L-BFGS iterations taken."""
    stage = Stage(POLISH, spec.best_effort)
    K = len(members)
    start = time.perf_counter()
    polished = polish_group(
        model, data.kind, polish_draws(spec, task, data, members), spec.best_effort.polish_iters
    )
    polish_s = time.perf_counter() - start
    scale = Scale.of(data.kind, [data.block(r.member.n_train) for r in members], data.x_val.device)
    val_loss, val_metric = evaluate(
        model, scale, data.x_val, data.y_val, [(0, len(data.y_val))] * K
    )
    test_loss, test_metric = evaluate(
        model, scale, data.x_test, data.y_test, [(0, len(data.y_test))] * K
    )
    bad = ~np.isfinite(val_metric) | ~np.isfinite(test_metric)
    return _stage_columns(spec, stage, members) | {
        "train_loss": polished.loss_after.tolist(),
        "val_loss": val_loss.tolist(),
        "val_metric": val_metric.tolist(),
        "test_loss": test_loss.tolist(),
        "test_metric": test_metric.tolist(),
        "bayes_metric": [float("nan") if bayes is None else bayes] * K,
        "reason": ["weights became non-finite" if b else None for b in bad],
        "steps": polished.iterations.tolist(),
        "converged": pd.array([None] * K, dtype="boolean"),
        "loss_steps": [None] * K,
        "loss_curve": [
            [float(b), float(a)] for b, a in zip(polished.loss_before, polished.loss_after)
        ],
        "train_time_s": [polish_s / K] * K,
        "eval_time_s": [0.0] * K,
        "flops": [0.0] * K,
        "group_size": [K] * K,
    }


def eps_of(spec: config.RunSpec, task: Task, bayes: float | None) -> list[float]:
    """The declared thresholds on the absolute ``val_metric`` scale."""
    scale = spec.report.eps_scale or task.eps_scale
    return resolve_eps(
        list(spec.report.eps), scale, task.chance, math.nan if bayes is None else bayes
    )
