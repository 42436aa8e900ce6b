"""A job's grid as data: cells (depth x budget x n_train), runs (x seeds x lrs), groups.

A *cell* is one grid point of one task instance; a *run* is one model (a cell with a
seed and a learning rate); a *group* is the runs that share a shape and so train as
one batched computation.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from depthbench import models
from depthbench.config import ONLINE, RunSpec
from depthbench.errors import ConfigError
from depthbench.models import Fit
from depthbench.models.budget import TOLERANCE
from depthbench.seeding import digest
from depthbench.trainer import Member


def data_identity(spec: RunSpec) -> dict[str, Any]:
    """What shapes an untrained row's numbers (a construction's, a baseline's): the task
    instance and its draws."""
    return {
        "task": spec.task,
        "task_params": spec.task_params,
        "data_seed": spec.data_seed,
        "n_val": spec.train.n_val,
        "n_test": spec.train.n_test,
    }


@dataclass(frozen=True)
class Run:
    """One model of the grid, with the keys that identify it in the results store."""

    depth: int
    budget: int
    fit: Fit
    member: Member
    cell_id: str
    run_id: str


def plan(spec: RunSpec, input_shape: tuple[int, int], output_dim: int) -> list[Run]:
    """Every run of the grid, infeasible cells included (they are recorded, not dropped).

    Raises :class:`ConfigError` for a budget that no depth of the grid can meet.
    """
    cls, params = models.model_class(spec.model), spec.model_params
    fits = {
        (d, b): models.fit(spec.model, input_shape, output_dim, d, b, **params)
        for d, b in itertools.product(spec.grid.depths, spec.grid.budgets)
    }
    shaped = [d for d in spec.grid.depths if not cls.check_shape(input_shape, d, **params)]
    if spec.grid.depths and not shaped:
        reason = cls.check_shape(input_shape, spec.grid.depths[0], **params)
        raise ConfigError("grid.depths", f"no depth fits model {spec.model!r}: {reason}")
    for b in spec.grid.budgets:
        if shaped and not any(fits[d, b].feasible for d in shaped):
            smallest = min(
                cls.count_params(input_shape, output_dim, d, 1, **params) for d in shaped
            )
            if b < smallest:
                raise ConfigError(
                    "grid.budgets",
                    f"budget {b} is below the smallest model of any depth in grid.depths "
                    f"({smallest} parameters at width 1); use budgets >= {smallest}",
                )
            reasons = "; ".join(f"depth {d}: {fits[d, b].reason}" for d in shaped)
            raise ConfigError(
                "grid.budgets",
                f"no depth in grid.depths has a width within {TOLERANCE:.0%} of budget {b} "
                f"({reasons}); "
                "choose budgets the widths can meet",
            )
    identity = spec.identity()
    runs = []
    for (d, b), fit in sorted(fits.items()):
        for n_train in spec.grid.n_train:
            cell_id = digest({**identity, "depth": d, "budget": b, "n_train": n_train})
            for seed, lr in itertools.product(range(spec.grid.seeds), spec.grid.lrs):
                member = Member(seed=seed, lr=lr, n_train=n_train)
                run_id = digest({"cell_id": cell_id, "seed": seed, "lr": lr})
                runs.append(Run(d, b, fit, member, cell_id, run_id))
    return runs


def groups(runs: list[Run]) -> dict[tuple[int, int, bool], list[Run]]:
    """Feasible runs keyed by ``(depth, width, online)``, in grid order: one shape, and
    either all online (fresh samples every step) or all drawing from the training set."""
    out: dict[tuple[int, int, bool], list[Run]] = defaultdict(list)
    for r in runs:
        if r.fit.feasible:
            assert r.fit.width is not None
            out[r.depth, r.fit.width, r.member.n_train == ONLINE].append(r)
    return dict(out)
