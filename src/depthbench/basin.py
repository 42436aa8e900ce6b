"""Construction + noise + local optimisation: the basin rows of a job (docs/science.md,
"Basin of a construction").

A trained cell that misses eps leaves open whether no network of its size reaches
eps or whether the optimiser found none from a random start. Where a theorem
constructs the network, each construction is embedded in the dense architecture of
its depth and width (a uniform-width ``mlp`` whose width is the construction's
widest layer; extra units get zero weights in and out, so they compute nothing),
every layer's weight and bias are perturbed by Gaussian noise of standard deviation
``noise`` times the RMS of the construction's weights of that layer (as embedded: the
output layer in the loss's units), and the result
is polished by float64 L-BFGS on the polish draw of a member of that size
(:func:`depthbench.refit.polish_draw`). Each (construction, noise, seed) is a row of
status ``basin`` whose ``protocol`` names the noise; the analysis
(:mod:`depthbench.analysis.basin`) reads the largest noise from which the polish
returns below the smallest declared eps: the width of the optimum's basin.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from depthbench import config, constructions, grid, rows
from depthbench.constructions import Construction
from depthbench.models import MLP
from depthbench.polish import polish_member
from depthbench.refit import polish_draw
from depthbench.schema import BASIN, basin_protocol
from depthbench.seeding import derive_seed, digest, generator
from depthbench.tasks import Task
from depthbench.trainer import Data, Scale, evaluate


@dataclass(frozen=True)
class Pending:
    """One basin row to compute: the construction ``name`` (built by ``make``), its
    ``noise`` scale and noise ``seed``, and the row's ``run_id``."""

    name: str
    make: constructions.Builder
    noise: float
    seed: int
    run_id: str


def pending(spec: config.RunSpec, task: Task, stored: set[str]) -> list[Pending]:
    """The basin rows of ``task``'s constructions not stored yet."""
    be = spec.best_effort
    out = []
    for name, make in task.constructions(constructions.MAX_NEURONS).items():
        for noise in be.basin_noise:
            for seed in range(be.basin_seeds):
                key = {**grid.data_identity(spec), "construction": name, "n_train": _n_train(spec)}
                run_id = digest(
                    key | {"protocol": basin_protocol(noise, be.polish_iters), "seed": seed}
                    | {"polish": [be.polish_per_param, be.polish_max]}
                )  # fmt: skip
                if run_id not in stored:
                    out.append(Pending(name, make, noise, seed, run_id))
    return out


def _n_train(spec: config.RunSpec) -> int:
    """The training draw the basin rows polish on: the grid's first ``n_train``."""
    return spec.grid.n_train[0]


def embed(net: Construction, task: Task, scale: Scale) -> MLP:
    """``net`` as a one-member float64 :class:`~depthbench.models.MLP` of its depth and
    widest layer, its output in the loss's units of ``scale`` (a regression network
    predicts ``(y - mean) / std``).

    Shapes: the construction's layer ``i`` ``W [in_i, out_i]``, ``b [out_i]`` fills
    ``weights[i][0, :in_i, :out_i]`` and ``biases[i][0, 0, :out_i]``; the rest is 0.
    """
    model = MLP(
        task.input_shape, task.output_dim, net.depth, max(net.widths), 1, net.activation
    ).double()
    mean, std = (
        (scale.mean[0].item(), scale.std[0].item()) if scale.kind == "regression" else (0, 1)
    )
    with torch.no_grad():
        for i, ((w, b), (weight, bias)) in enumerate(zip(net.layers, model.layers())):
            weight.zero_()
            bias.zero_()
            last = i == net.depth
            weight[0, : w.shape[0], : w.shape[1]] = w.double() / (std if last else 1)
            bias[0, 0, : b.shape[0]] = (b.double() - (mean if last else 0)) / (std if last else 1)
    return model


@torch.no_grad()
def perturb(model: MLP, net: Construction, noise: float, seed: int) -> None:
    """Add ``N(0, (noise * rms_i)^2)`` to every weight and bias of layer ``i``, ``rms_i``
    the RMS of the construction's block of the embedded weight (the output layer's in
    the loss's units, so the noise does not depend on the targets' scale); drawn from
    ``seed``."""
    g = generator(seed)
    for (w, _), (weight, bias) in zip(net.layers, model.layers()):
        rms = weight[0, : w.shape[0], : w.shape[1]].pow(2).mean().sqrt().item()
        for p in (weight, bias):
            p.add_(torch.randn(p.shape, generator=g, dtype=torch.float64) * noise * rms)


def evaluate_pending(
    spec: config.RunSpec, task: Task, data: Data, bayes: float | None, todo: list[Pending]
) -> Iterator[dict[str, Any]]:
    """The columns of the pending basin rows, one construction's at a time, as computed
    (on the CPU: polished in float64, evaluated in float32 like every network; ``data``
    on the CPU)."""
    n_train = _n_train(spec)
    scale = Scale.of(data.kind, [data.block(n_train)], torch.device("cpu"))
    for _, group in itertools.groupby(todo, key=lambda p: p.name):
        mine = list(group)
        net = mine[0].make(data.x_val, data.y_val)
        yield rows.single_rows([_row(spec, task, data, bayes, net, scale, p) for p in mine])


def _row(
    spec: config.RunSpec,
    task: Task,
    data: Data,
    bayes: float | None,
    net: Construction,
    scale: Scale,
    p: Pending,
) -> dict[str, Any]:
    """The basin row of ``net`` under ``p``'s noise and seed."""
    model = embed(net, task, scale)
    perturb(model, net, p.noise, derive_seed(spec.data_seed, BASIN, p.name, p.noise, p.seed))
    start = time.perf_counter()
    x, target = polish_draw(spec, task, data, _n_train(spec), model.n_params)
    before, after, taken = polish_member(model, data.kind, x, target, spec.best_effort.polish_iters)
    polished = time.perf_counter() - start
    model.float()  # evaluated as a trained network is: float32
    val_loss, val_metric = evaluate(model, scale, data.x_val, data.y_val, [(0, len(data.y_val))])
    test_loss, test_metric = evaluate(
        model, scale, data.x_test, data.y_test, [(0, len(data.y_test))]
    )
    row = rows.untrained_row(
        p.run_id,
        BASIN,
        bayes,
        model=p.name,
        activation=net.activation,
        depth=net.depth,
        width=max(net.widths),
        n_params=model.n_params,
        n_hidden=model.n_hidden,
        scale=net.scale,
        n_train=_n_train(spec),
        seed=p.seed,
        train_loss=after,
        val_loss=float(val_loss[0]),
        val_metric=float(val_metric[0]),
        test_loss=float(test_loss[0]),
        test_metric=float(test_metric[0]),
        train_time_s=polished,
        eval_time_s=0.0,
    )
    finite = bool(np.isfinite(test_metric[0]))
    return row | {
        "protocol": basin_protocol(p.noise, spec.best_effort.polish_iters),
        "steps": taken,
        "loss_curve": [before, after],
        "reason": None if finite else "weights became non-finite",
    }
