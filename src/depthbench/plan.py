"""``depthbench plan [HYDRA OVERRIDES]``: what ``depthbench run -m`` would train, and
about how long its training would take, with nothing trained but a short timing probe.

The jobs are those Hydra's basic sweeper launches: the product of the experiment's
``hydra.sweeper.params``, a command-line sweep (``a=1,2``) replacing or adding an axis
and a plain override (``a=1``) fixing a key (:func:`sweep_jobs`). Per job it counts
the models (feasible runs of :func:`depthbench.grid.plan`), their groups
(:func:`depthbench.grid.groups`), the batched training steps and the training FLOPs
(:func:`depthbench.trainer.train_flops`), and estimates the training loop's wall time
by a :class:`Cost`: seconds per step of one group, ``a + b * depth + c * flops``.
Here the cost is measured (:func:`measure`: a few groups of the first job trained a
few steps); for the reference GPU it is fitted to the committed benchmark
``reports/benchmarks/gpu.json`` (:func:`reference`). Nothing is written.
"""

from __future__ import annotations

import itertools
import json
import os
import platform
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
from omegaconf import OmegaConf

from depthbench import config, grid, initial, models, run, tasks, trainer
from depthbench.config import ONLINE, RunSpec
from depthbench.device import matmul_precision, resolve_device
from depthbench.errors import DepthbenchError
from depthbench.experiments import compose_job, conf_dir
from depthbench.grid import Run
from depthbench.overrides import _first_job, _overrides, bad_override, composition_error, flag_error
from depthbench.tasks import Task
from depthbench.trainer import Data

WARMUP_STEPS = 2  # steps each probe group trains untimed before it is timed
PROBE_STEPS = 16  # timed steps of each probe group, per repeat, at most
PROBE_FLOPS = 1e10  # timed FLOPs of each probe group, per repeat, at most (but 1 step):
# a large group trains fewer steps, so that the probe stays quick on a CPU
PROBE_REPEATS = 3  # timed repeats of each probe group; the fastest counts (as timeit's:
# the slower ones are slowed by the machine's other work, not by the group)
PROBE_EVAL = 64  # validation and test rows a probe group is evaluated on (not timed)
GPU_BENCHMARK = "test_standard_grid_against_the_peer"

#: a (depth, FLOPs per step, seconds per step) measurement of one group
Sample = tuple[int, float, float]


def gpu_json() -> Path:
    """The committed GPU benchmark of a source checkout (a wheel does not hold it)."""
    return conf_dir().parent / "reports" / "benchmarks" / "gpu.json"


@dataclass(frozen=True)
class Group:
    """One batched computation: ``runs`` (one depth and width) trained together;
    ``flops_per_step``: their training FLOPs per step (6 x parameters x batch, summed)."""

    depth: int
    width: int
    runs: tuple[Run, ...]
    flops_per_step: float

    @property
    def online(self) -> bool:
        return self.runs[0].member.n_train == ONLINE


@dataclass(frozen=True)
class Cost:
    """Seconds per training step of one group on ``device``: ``a`` (s) ``+ b`` (s per
    layer) ``x depth + c`` (s per FLOP) ``x`` the group's FLOPs per step; ``basis``
    says what it was fitted to."""

    a: float
    b: float
    c: float
    device: str
    basis: str

    @classmethod
    def fit(cls, samples: Sequence[Sample], device: str, basis: str) -> Cost:
        """The non-negative least-squares fit (:func:`nnls`) to ``samples``; ``basis``
        gains the span of their FLOPs a step (beyond it the fit extrapolates)."""
        rows = np.array([[1.0, d, f] for d, f, _ in samples])
        a, b, c = nnls(rows, np.array([s for *_, s in samples], dtype=float))
        span = f"; {rows[:, 2].min():.2g} to {rows[:, 2].max():.2g} FLOPs a step"
        return cls(float(a), float(b), float(c), device, basis + span)

    def step_s(self, depth: int, flops: float) -> float:
        """Seconds of one step of a group of ``depth`` and ``flops`` FLOPs a step."""
        return self.a + self.b * depth + self.c * flops

    def describe(self) -> str:
        rate = f"{1 / self.c / 1e9:.3g} GFLOP/s" if self.c > 0 else "inf"
        return f"a {self.a * 1e3:.3g} ms, b {self.b * 1e3:.3g} ms/layer, 1/c {rate}"


def nnls(rows: np.ndarray, target: np.ndarray) -> np.ndarray:
    """``argmin |rows @ x - target|`` over ``x >= 0``, exactly: the optimum is the
    least-squares solution on some support of ``x`` with independent columns, so the
    best non-negative one over all ``2^k`` supports is it (``k`` columns, 3 here).
    Columns are scaled to a largest magnitude of 1 first (seconds against FLOPs)."""
    scale = np.abs(rows).max(axis=0, initial=0.0)
    scale[scale == 0] = 1.0
    scaled = rows / scale
    best, best_sq = np.zeros(rows.shape[1]), float(target @ target)
    for support in itertools.product((False, True), repeat=rows.shape[1]):
        cols = np.flatnonzero(support)
        if not len(cols):
            continue
        part = np.linalg.lstsq(scaled[:, cols], target, rcond=None)[0]
        if (part < 0).any():
            continue
        x = np.zeros(rows.shape[1])
        x[cols] = part
        residual = scaled @ x - target
        if residual @ residual < best_sq * (1 - 1e-12):
            best, best_sq = x, float(residual @ residual)
    return best / scale


@dataclass(frozen=True)
class JobPlan:
    """One job of the sweep: its ``overrides``, validated ``spec`` and ``task``, its
    ``groups`` (:func:`depthbench.grid.groups`) and the ``chunks`` the trainer runs
    (groups split to fit ``train.memory_gb`` and ``train.max_members``)."""

    overrides: tuple[str, ...]
    spec: RunSpec
    task: Task
    groups: tuple[Group, ...]
    chunks: tuple[Group, ...]

    @property
    def models(self) -> int:
        return sum(len(g.runs) for g in self.groups)

    @property
    def steps(self) -> int:
        """Batched training steps: ``train.steps`` per chunk (the progress bar's count)."""
        return len(self.chunks) * self.spec.train.steps

    @property
    def flops(self) -> float:
        """Training FLOPs of every model (:func:`depthbench.trainer.train_flops`)."""
        return sum(g.flops_per_step for g in self.chunks) * self.spec.train.steps

    def wall_s(self, cost: Cost) -> float:
        """Seconds of the training loop under ``cost``."""
        steps = self.spec.train.steps
        return steps * sum(cost.step_s(g.depth, g.flops_per_step) for g in self.chunks)

    @property
    def refits(self) -> bool:
        """Whether the job runs the best-effort fit (``best_effort.cells`` not ``none``)."""
        return self.spec.best_effort.cells != "none"

    def refit_steps(self) -> int:
        """At most this many batched steps of the best-effort fit: ``steps_factor x
        train.steps`` for each group, holding at most the members at one rate (each
        cell's chosen one), ``1 / len(grid.lrs)`` of the group."""
        return self.spec.best_effort.steps_factor * self.spec.train.steps * len(self.groups)

    def refit_flops(self) -> float:
        """At most this many training FLOPs of the best-effort fit (:meth:`refit_steps`)."""
        return self.spec.best_effort.steps_factor * self.flops / len(self.spec.grid.lrs)

    def refit_wall_s(self, cost: Cost) -> float:
        """At most this many seconds of the best-effort fit's training loop under ``cost``."""
        share = 1 / len(self.spec.grid.lrs)
        steps = self.spec.best_effort.steps_factor * self.spec.train.steps
        return steps * sum(cost.step_s(g.depth, g.flops_per_step * share) for g in self.groups)


def sweep_jobs(argv: list[str]) -> list[list[str]]:
    """The overrides of every job ``depthbench run -m ARGV`` launches, as Hydra's basic
    sweeper makes them: the experiment's ``hydra.sweeper.params`` then the command
    line's overrides, a later one of a key replacing an earlier one (``a=1,2`` an axis,
    ``a=1`` a fixed value), the product over the axes."""
    overrides = _overrides(argv)
    sweep = compose_job(_first_job(overrides), hydra=True).hydra.sweeper.params
    # the sweep's keys are override keys (strings)
    params = cast("dict[str, Any]", OmegaConf.to_container(sweep)) if sweep else {}
    declared = [f"{key}={value}" for key, value in params.items()]
    parsed = OverridesParser.create().parse_overrides([*declared, *overrides])
    return BasicSweeper.split_arguments(parsed, None)[0]


def _group(spec: RunSpec, depth: int, width: int, runs: Sequence[Run]) -> Group:
    n_params = sum(r.fit.n_params or 0 for r in runs)
    flops = trainer.train_flops(n_params, spec.train.batch_size)
    return Group(depth, width, tuple(runs), flops)


def plan_job(overrides: Sequence[str]) -> JobPlan:
    """The :class:`JobPlan` of the job ``overrides`` compose to (its plugins imported),
    refused as ``depthbench run`` refuses a task, model or init that cannot train."""
    spec = config.parse(compose_job(list(overrides)))
    run._import_plugins(spec.plugins)
    task = tasks.make(spec.task, **spec.task_params)
    task.check_draw(max(run._sizes(spec).values()), spec.train.n_val, spec.train.n_test)
    models.check_params(spec.model, spec.model_params)
    initial.check_init(spec.train.init, spec.model)
    shaped = grid.groups(grid.plan(spec, task.input_shape, task.output_dim))
    return JobPlan(
        overrides=tuple(overrides),
        spec=spec,
        task=task,
        groups=tuple(_group(spec, d, w, runs) for (d, w, _), runs in shaped.items()),
        chunks=tuple(_group(spec, d, w, runs) for d, w, runs in run._work(spec, task, shaped)),
    )


def probe_groups(chunks: Sequence[Group]) -> list[Group]:
    """Up to 4 of ``chunks``: the fewest and most FLOPs a step at the smallest and the
    largest depth, in that order, each once."""
    if not chunks:
        return []
    picked: list[Group] = []
    for depth in sorted({min(g.depth for g in chunks), max(g.depth for g in chunks)}):
        at = [g for g in chunks if g.depth == depth]
        for g in (min(at, key=lambda g: g.flops_per_step), max(at, key=lambda g: g.flops_per_step)):
            if g not in picked:
                picked.append(g)
    return picked


def device_name(device: torch.device) -> str:
    """``cuda (NVIDIA ...)`` or ``cpu (x86_64, N torch threads, load average L)``: the
    machine's other work (its 1-minute load) slows a CPU's training."""
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    cpu = platform.processor() or platform.machine()
    load = f", load average {os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else ""
    return f"cpu ({cpu}, {torch.get_num_threads()} torch threads{load})"


def _probe_data(spec: RunSpec, task: Task, device: torch.device) -> Data:
    """The job's own draws (those ``depthbench run`` trains on), with only the first
    :data:`PROBE_EVAL` validation and test rows: evaluation is not timed."""
    data = run._draw(spec, task)
    few = slice(0, PROBE_EVAL)
    cut = replace(
        data,
        x_val=data.x_val[few],
        y_val=data.y_val[few],
        x_test=data.x_test[few],
        y_test=data.y_test[few],
    )
    return cut.to(device)


def _step_s(spec: RunSpec, task: Task, data: Data, group: Group) -> float:
    """Seconds per step of ``group`` trained by the suite's own trainer: after
    :data:`WARMUP_STEPS` untimed steps, the least over :data:`PROBE_REPEATS` runs of
    the training loop's time over :func:`probe_steps` steps."""
    online = run._sampler(spec, task) if group.online else None

    def loop_s(steps: int) -> float:
        shape = (group.depth, group.width)
        _, outcome = initial.train_fresh(spec, task, data, shape, group.runs, steps, online)
        return outcome.train_time_s

    loop_s(WARMUP_STEPS)
    steps = probe_steps(group)
    return min(loop_s(steps) for _ in range(PROBE_REPEATS)) / steps


def probe_steps(group: Group) -> int:
    """The timed steps of a probe ``group``: :data:`PROBE_STEPS`, fewer where they
    would exceed :data:`PROBE_FLOPS`, at least 1; fixed by the group alone."""
    return max(1, min(PROBE_STEPS, int(PROBE_FLOPS // max(group.flops_per_step, 1))))


def measure(jobs: Sequence[JobPlan]) -> Cost:
    """This machine's :class:`Cost`, fitted to :func:`probe_groups` of the first job
    that trains a model, on its device and data; deterministic in what it trains and
    writes nothing. Zero where no job trains a model."""
    job = next((j for j in jobs if j.chunks), None)
    if job is None:
        return Cost(0.0, 0.0, 0.0, "none", "no job trains a model")
    spec, task = job.spec, job.task
    device = resolve_device(spec.train.device)
    name = device_name(device)  # before the probe adds its own load
    start = time.perf_counter()
    data = _probe_data(spec, task, device)
    picked = probe_groups(job.chunks)
    with matmul_precision(device, spec.train.tf32):
        samples = [(g.depth, g.flops_per_step, _step_s(spec, task, data, g)) for g in picked]
    basis = (
        f"fitted to {len(picked)} groups of job {jobs.index(job) + 1}, each trained "
        f"{PROBE_REPEATS} x {'/'.join(str(probe_steps(g)) for g in picked)} steps after "
        f"{WARMUP_STEPS} warm-up steps "
        f"(probe {time.perf_counter() - start:.1f} s)"
    )
    return Cost.fit(samples, name, basis)


def reference(path: Path | None = None) -> Cost | None:
    """The reference GPU's :class:`Cost`, fitted to the cells of the committed
    benchmark ``path`` (default :func:`gpu_json`; None where it is absent): seconds per
    step ``ours_s / steps``, FLOPs per step ``ours_flops`` (FLOP/s) ``x`` those seconds."""
    path = path or gpu_json()
    if not path.is_file():
        return None
    measured = json.loads(path.read_text())
    found = [b for b in measured["benchmarks"] if b["name"] == GPU_BENCHMARK]
    if not found:
        raise DepthbenchError(f"{path}: no benchmark {GPU_BENCHMARK}")
    info = found[0]["extra_info"]
    samples = [
        (c["depth"], c["ours_flops"] * c["ours_s"] / info["steps"], c["ours_s"] / info["steps"])
        for c in info["cells"]
    ]
    basis = (
        f"fitted to {len(samples)} cells of {path.name} ({GPU_BENCHMARK}, "
        f"measured {measured['datetime'][:10]})"
    )
    return Cost.fit(samples, info["device_name"], basis)


def duration(seconds: float) -> str:
    """``seconds`` for a person: ``42s``, ``12m``, ``3.2h``, ``4.1d``."""
    if seconds < 60:
        return f"{seconds:.0f}s"
    if seconds < 3600:
        return f"{seconds / 60:.0f}m"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 86400:.1f}d"


def _row(label: str, jobs: Sequence[JobPlan], costs: Sequence[Cost | None], about: str) -> str:
    times = [duration(sum(j.wall_s(c) for j in jobs)) if c else "-" for c in costs]
    models, groups = sum(j.models for j in jobs), sum(len(j.groups) for j in jobs)
    steps, flops = sum(j.steps for j in jobs), sum(j.flops for j in jobs)
    line = (
        f"{label:>5} {models:>7} {groups:>6} {steps:>10} {flops:>10.3g} "
        f"{times[0]:>7} {times[1]:>7}  {about}"
    )
    return line.rstrip()


def _refit_line(jobs: Sequence[JobPlan], here: Cost, gpu: Cost | None) -> str | None:
    fitting = [j for j in jobs if j.refits]
    if not fitting:
        return None
    cells = sorted({j.spec.best_effort.cells for j in fitting})
    on_gpu = f", <= {duration(sum(j.refit_wall_s(gpu) for j in fitting))} GPU" if gpu else ""
    return (
        f"best-effort fit (best_effort.cells={'/'.join(cells)}, in {len(fitting)} jobs): "
        f"a bound, not an estimate: <= {sum(j.refit_steps() for j in fitting)} steps, "
        f"<= {sum(j.refit_flops() for j in fitting):.3g} FLOPs, "
        f"<= {duration(sum(j.refit_wall_s(here) for j in fitting))} here{on_gpu} "
        "(steps_factor x train.steps for every cell's members at one rate; it refits only "
        "the cells it picks, and its float64 L-BFGS polish is not counted)"
    )


def _left_out(jobs: Sequence[JobPlan]) -> str:
    parts = [
        "evaluation",
        "data generation (online minibatches are drawn inside the timed loop here, not in "
        "the GPU benchmark)",
        "the Bayes-error draw",
        "writing results",
    ]
    if any(j.spec.baselines for j in jobs):
        parts.insert(0, "baselines")
    if any(j.spec.constructions for j in jobs):
        parts.insert(0, "constructions and their basins")
    if any(j.refits for j in jobs):
        parts.append("the best-effort fit (bounded above)")
    return (
        "not in the times: " + ", ".join(parts) + "; jobs are summed as if run one at a time. "
        "The times are rough: the model has no term for elementwise work, so on a CPU wide "
        "one-hidden-layer groups cost more per FLOP than it says, and a time outside the "
        "FLOPs range a fit covers is an extrapolation"
    )


def render(jobs: Sequence[JobPlan], here: Cost, gpu: Cost | None) -> str:
    """The plan as text: a line per job and the total, then the cost models."""
    gpu_label = "GPU" if gpu else "GPU (-)"
    lines = [
        f"{len(jobs)} job(s), as `depthbench run -m` launches them; steps: batched steps "
        "(one group of same-shape models each); times: the training loop",
        f"{'job':>5} {'models':>7} {'groups':>6} {'steps':>10} {'FLOPs':>10} "
        f"{'here':>7} {gpu_label:>7}  overrides",
        *(_row(str(n), [j], [here, gpu], " ".join(j.overrides)) for n, j in enumerate(jobs, 1)),
        _row("all", jobs, [here, gpu], ""),
        "time per step of one group: t = a + b x depth + c x FLOPs",
        f"  here: {here.device}: {here.describe()}; {here.basis}",
        f"  GPU: {gpu.device}: {gpu.describe()}; {gpu.basis}"
        if gpu
        else f"  GPU: no {gpu_json()} (a source checkout holds it)",
        _refit_line(jobs, here, gpu),
        _left_out(jobs),
    ]
    return "\n".join(line for line in lines if line is not None)


def main(argv: list[str], here: Cost | None = None) -> int:
    """``depthbench plan ARGV``: print the plan of the jobs ``depthbench run -m ARGV``
    launches and return 0, or 2 with one line on stderr for bad input. ``here``: this
    machine's cost, measured by :func:`measure` when None."""

    try:
        bad = flag_error(argv) or bad_override(argv) or composition_error(argv)
        if bad:
            raise DepthbenchError(bad)
        jobs = [plan_job(overrides) for overrides in sweep_jobs(argv)]
        print(render(jobs, here or measure(jobs), reference()))
    except (DepthbenchError, HydraException) as exc:
        print(f"error: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 2
    return 0
