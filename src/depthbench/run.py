"""``depthbench run``: one job trains one task instance's grid and stores the rows.

:func:`run` is a plain function of a composed config (the Hydra entry point in
:mod:`depthbench.cli` is a thin shim over it), so tests call it through Hydra's
compose API as well as through the CLI.
"""

from __future__ import annotations

import importlib
import json
import logging
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pandas as pd
import torch
from omegaconf import DictConfig

from depthbench import (
    baseline_runs,
    basin,
    config,
    constructions,
    grid,
    initial,
    metrics,
    models,
    preflight,
    provenance,
    refit,
    results,
    rows,
    schema,
    tasks,
)
from depthbench.config import ONLINE
from depthbench.device import matmul_precision, resolve_device
from depthbench.errors import ConfigError, Interrupted
from depthbench.grid import Run
from depthbench.job import Job, available_cpus, crowding, thread_share
from depthbench.progress import Progress, step_cost
from depthbench.rows import single_rows, untrained_row
from depthbench.seeding import derive_seed, digest
from depthbench.tasks import Task
from depthbench.trainer import Data, Sampler, chunks, member_bytes

log = logging.getLogger(__name__)
TORCH_THREADS = torch.get_num_threads()  # torch's default, read before any job sets it


@dataclass(frozen=True)
class Plan:
    """What a job will do: of the grid's ``runs``, those not stored yet (``todo``), as
    ``groups`` of ``(depth, width, members)`` to train batched; the ``constructions``,
    their ``basins`` (:mod:`depthbench.basin`) and the ``baselines`` not stored yet."""

    runs: list[Run]
    todo: list[Run]
    groups: list[tuple[int, int, list[Run]]]
    constructions: dict[str, tuple[str, constructions.Builder]]
    baselines: list[baseline_runs.Planned]
    basins: list[basin.Pending]

    @property
    def needs_data(self) -> bool:
        return bool(self.groups or self.constructions or self.baselines or self.basins)


def run(cfg: DictConfig, job: Job = Job()) -> pd.DataFrame:
    """Train every run of the grid not already stored; return the rows written
    (``attrs["skipped"]``: runs of the grid found stored). ``job`` places the job
    within its sweep (its GPU, its share of the CPU threads). Plan, execute, store:
    each cell is stored as soon as it is computed."""
    spec = config.parse(cfg)
    _import_plugins(spec.plugins)
    preflight.results_dir(spec.results_dir)
    task = tasks.make(spec.task, **spec.task_params)
    if ONLINE in spec.grid.n_train and not task.continuous:
        raise ConfigError(
            "grid.n_train",
            f"online data needs fresh inputs, but this {spec.task} "
            "has a finite input set that the test draw shares; use sizes",
        )
    task.check_draw(max(_sizes(spec).values()), spec.train.n_val, spec.train.n_test)
    preflight.draws(
        task,
        {
            "grid.n_train": sum(_sizes(spec).values()),
            "train.n_val": spec.train.n_val,
            "train.n_test": spec.train.n_test,
        },
    )
    preflight.probe(task, derive_seed(spec.data_seed, "probe"))
    models.check_params(spec.model, spec.model_params)
    initial.check_init(spec.train.init, spec.model)
    device = resolve_device(spec.train.device, job.num)
    torch.set_num_threads(_threads(spec, job))
    crowded = crowding(torch.get_num_threads())
    if crowded:
        log.warning(crowded)
    plan = _plan(spec, task, device)
    common = provenance.collect(device) | {
        "train.tf32": spec.train.tf32,
        "train.optimizer": spec.train.optimizer.name,
        "train.momentum": spec.train.optimizer.momentum,
        "train.weight_decay": spec.train.optimizer.weight_decay,
        "train.stop_loss": spec.train.optimizer.stop_loss,
        "torch_threads": torch.get_num_threads(),
        "eps": json.dumps(list(spec.report.eps)),
        "eps_scale": spec.report.eps_scale or task.eps_scale,
        "labels": task.labels,
        "regime": spec.report.regime,
    }
    written: list[pd.DataFrame] = []
    try:
        for columns in _execute(spec, task, device, plan):
            written += _store(spec, rows.frame(spec, task, columns, common))
    except KeyboardInterrupt:  # SIGINT, or SIGTERM (the CLI turns it into one)
        stored = sum(int(f["status"].isin(["ok", "diverged"]).sum()) for f in written)
        raise Interrupted(stored, len(plan.todo) - stored) from None

    frame = (
        pd.concat(written, ignore_index=True) if written else pd.DataFrame(columns=schema.COLUMNS)
    )
    frame.attrs["skipped"] = len(plan.runs) - len(plan.todo)
    counts = Counter(frame["status"])
    log.info(
        "done: %d new rows (%s), %d skipped as stored",
        len(frame),
        ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none",
        frame.attrs["skipped"],
    )
    return frame


def _plan(spec: config.RunSpec, task: Task, device: torch.device) -> Plan:
    """The grid's runs, refused before any work if a size cannot train on ``device``;
    what of them, and of the constructions and baselines, is not stored yet."""
    runs = grid.plan(spec, task.input_shape, task.output_dim)
    _check_sizes(spec, task, runs, device)
    for stale in results.clean_stale(spec.results_dir):
        log.info("removed %s, a temporary file of a dead writer", stale)
    stored = results.stored_run_ids(spec.results_dir)
    todo = [r for r in runs if r.run_id not in stored]
    log.info(
        "%s %s: %d runs in the grid, %d already stored in %s",
        spec.task,
        task.params,
        len(runs),
        len(runs) - len(todo),
        spec.results_dir,
    )
    return Plan(
        runs=runs,
        todo=todo,
        groups=_work(spec, task, grid.groups(todo)),
        constructions=_pending_constructions(spec, task, stored) if spec.constructions else {},
        baselines=baseline_runs.plan(spec, task, stored) if spec.baselines else [],
        basins=basin.pending(spec, task, stored) if spec.constructions else [],
    )


def _execute(
    spec: config.RunSpec, task: Task, device: torch.device, plan: Plan
) -> Iterator[dict[str, Any]]:
    """The columns of each cell's rows as soon as they are computed: the infeasible
    runs, the constructions and their basins, the baselines, each trained group, then
    the refit stages of the best-effort fit (:mod:`depthbench.refit`), planned from
    what is stored."""
    infeasible = [r for r in plan.todo if not r.fit.feasible]
    if infeasible:
        yield rows.run_columns(spec, infeasible) | rows.infeasible_outcome(infeasible)
    drawn = (_draw(spec, task), _bayes(spec, task)) if plan.needs_data else None
    if drawn is not None:
        data, bayes = drawn
        if plan.constructions:
            yield _construct(task, data, bayes, plan.constructions)
        if plan.basins:
            yield from basin.evaluate_pending(spec, task, data, bayes, plan.basins)
        if plan.baselines:
            yield single_rows(baseline_runs.evaluate(spec, task, data, bayes, plan.baselines))
        if plan.groups:
            yield from _train(spec, task, data.to(device), bayes, plan.groups)
    if spec.best_effort.cells != "none":
        yield from _refit(spec, task, device, plan.runs, drawn)


def _train(
    spec: config.RunSpec,
    task: Task,
    data: Data,
    bayes: float | None,
    groups: list[tuple[int, int, list[Run]]],
) -> Iterator[dict[str, Any]]:
    """Train each group of the grid on ``data`` (on the training device); its columns."""
    device = data.x_train.device
    with (
        Progress(_costs(spec, groups), spec.train.steps, spec.train.progress) as bar,
        matmul_precision(device, spec.train.tf32),
    ):
        for depth, width, members in groups:
            online = members[0].member.n_train == ONLINE
            bar.next_group(depth=depth, width=width, members=len(members))
            sampler = _sampler(spec, task) if online else None
            _, outcome = initial.train_fresh(
                spec, task, data, (depth, width), members, spec.train.steps, sampler, bar.update
            )
            yield rows.run_columns(spec, members) | rows.trained_outcome(
                spec, members, outcome, bayes
            )


def _refit(
    spec: config.RunSpec,
    task: Task,
    device: torch.device,
    runs: list[Run],
    drawn: tuple[Data, float | None] | None,
) -> Iterator[dict[str, Any]]:
    """The best-effort fit of the cells ``best_effort.cells`` names, read from the
    store (so a resumed job refits what it trained before); the data drawn only if
    there is work."""
    bayes = drawn[1] if drawn is not None else _bayes(spec, task)
    work = refit.plan(spec, runs, refit.stored_rows(spec), refit.eps_of(spec, task, bayes))
    if not work:
        return
    log.info("best-effort fit: %d members in %d groups", sum(len(m) for *_, m in work), len(work))
    data = (drawn[0] if drawn is not None else _draw(spec, task)).to(device)
    with matmul_precision(device, spec.train.tf32):
        yield from refit.execute(spec, task, data, bayes, work, _sampler(spec, task))


def _store(spec: config.RunSpec, frame: pd.DataFrame) -> list[pd.DataFrame]:
    """Write ``frame``, one file per cell; its cells."""
    cells = []
    for cell_id, cell in frame.groupby("cell_id", sort=False):
        results.write(cell, spec.results_dir, f"{cell_id}-{digest(sorted(cell['run_id']))[:8]}")
        cells.append(cell)
    return cells


def _check_sizes(spec: config.RunSpec, task: Task, runs: list[Run], device: torch.device) -> None:
    """Refuse, before any work, a minibatch larger than a training set and a model that
    cannot train in the device's memory even alone."""
    finite = [n for n in spec.grid.n_train if n != ONLINE]
    if finite and spec.train.batch_size > min(finite):
        raise ConfigError(
            "train.batch_size",
            f"{spec.train.batch_size} is larger than the "
            f"smallest training set (grid.n_train {min(finite)}); lower it",
        )
    total = (
        torch.cuda.get_device_properties(device).total_memory
        if device.type == "cuda"
        else preflight.machine_bytes()
    )
    for r in runs:
        need = member_bytes(
            r.fit.n_params or 0, r.fit.n_hidden or 0, task.input_dim, spec.train.batch_size
        )
        if r.fit.feasible and need > preflight.MEMORY_SHARE * total:
            raise ConfigError(
                "grid.budgets",
                f"budget {r.budget} at depth {r.depth} needs about "
                f"{need / 2**30:.1f} GB to train one model, more than the "
                f"{total / 2**30:.1f} GB of {device}; lower it",
            )


def _import_plugins(modules: tuple[str, ...]) -> None:
    """Import each of ``plugins``, whose task families and models register themselves."""
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise ConfigError(
                "plugins",
                f"cannot import {module!r} ({exc}); it must be on "
                "the Python path (installed, or in PYTHONPATH)",
            ) from None


def _threads(spec: config.RunSpec, job: Job) -> int:
    """torch's CPU threads: ``train.threads``, else the job's share of the machine
    (:func:`depthbench.job.thread_share`), else the CPUs this process may use (its
    affinity mask, which torch's default ignores) up to torch's default."""
    return spec.train.threads or thread_share(job) or min(available_cpus(), TORCH_THREADS)


def _costs(spec: config.RunSpec, groups: list[tuple[int, int, list[Run]]]) -> list[float]:
    """Each group's cost per step (:func:`depthbench.progress.step_cost`)."""
    return [
        step_cost(depth, members[0].fit.n_params or 0, len(members), spec.train.batch_size)
        for depth, _, members in groups
    ]


def _work(
    spec: config.RunSpec, task: Task, shaped: dict[tuple[int, int, bool], list[Run]]
) -> list[tuple[int, int, list[Run]]]:
    """``(depth, width, members)`` to train: each group split into member chunks that
    fit ``train.memory_gb`` (and ``train.max_members``)."""
    limit = int(spec.train.memory_gb * 2**30)
    return [
        (depth, width, part)
        for (depth, width, _), members in shaped.items()
        for part in chunks(
            members,
            member_bytes(
                members[0].fit.n_params or 0,
                members[0].fit.n_hidden or 0,
                task.input_dim,
                spec.train.batch_size,
            ),
            limit,
            spec.train.max_members,
        )
    ]


def _pending_constructions(
    spec: config.RunSpec, task: Task, stored: set[str]
) -> dict[str, tuple[str, constructions.Builder]]:
    """Constructions for ``task`` not stored yet: name -> (run_id, builder)."""
    pending = {}
    for name, make in task.constructions(constructions.MAX_NEURONS).items():
        run_id = digest({**grid.data_identity(spec), "construction": name})
        if run_id not in stored:
            pending[name] = (run_id, make)
    return pending


def _construct(
    task: Task,
    data: Data,
    bayes: float | None,
    pending: dict[str, tuple[str, constructions.Builder]],
) -> dict[str, Any]:
    """Build the pending constructions and evaluate them on the validation and test
    draws; their columns. lambda is chosen on the validation draw; evaluation is
    float32 on the CPU."""
    found = []
    for name, (run_id, make) in pending.items():
        start = time.perf_counter()
        net = make(data.x_val, data.y_val)
        built = time.perf_counter()
        metric = metrics.output_metric(task.kind, net(data.x_test), data.y_test).item()
        log.info(
            "constructed %s: %d hidden neurons in %d layers, lambda %.3g, test_metric %.3g",
            name,
            net.n_hidden,
            net.depth,
            net.scale,
            metric,
        )
        found.append(
            untrained_row(
                run_id,
                "constructed",
                bayes,
                model=name,
                activation=net.activation,
                depth=net.depth,
                width=max(net.widths),
                n_params=net.n_params,
                n_hidden=net.n_hidden,
                scale=net.scale,
                val_metric=metrics.output_metric(task.kind, net(data.x_val), data.y_val).item(),
                test_metric=metric,
                train_time_s=built - start,
                eval_time_s=time.perf_counter() - built,
            )
        )
    return single_rows(found)


ONLINE_DRAW = 16384  # training draw of online members: target statistics, baselines


def _sizes(spec: config.RunSpec) -> dict[int, int]:
    """The training draw of each ``n_train`` of the grid: its own size, or
    :data:`ONLINE_DRAW` for online members."""
    return {n: n or ONLINE_DRAW for n in spec.grid.n_train}


def _sampler(spec: config.RunSpec, task: Task) -> Sampler:
    """Fresh training samples for online members: ``(num, seed, step)`` -> a CPU draw from
    a stream of ``data_seed``, the member's seed and the step, apart from every other draw."""
    return lambda num, seed, step: task.sample(
        num, derive_seed(spec.data_seed, seed, "online", step)
    )


BAYES_DRAW = 65536  # samples, at least, of the draw the Bayes error is estimated on
BAYES_CHUNK = 8192  # samples of that draw made and evaluated at a time, each its own stream


def _bayes(spec: config.RunSpec, task: Task) -> float | None:
    """The Bayes error of ``task`` (``bayes_metric``, the floor of the ``bayes`` eps scale),
    or ``None`` where the family has none: :meth:`Task.bayes_metric` on a draw of its own
    of ``max(n_test, BAYES_DRAW)`` samples, never the test draw, whose test_metric the
    threshold it sets is compared with. Its seed derives from the task instance alone
    (family and parameters, a function seed among them where the family has one), not
    from ``data_seed``: every replicate and job of an instance reads the same Bayes
    error. Drawn on the CPU in chunks of :data:`BAYES_CHUNK`, chunk ``i`` seeded by
    ``derive_seed("bayes", family, params, i)``, and averaged by size."""
    if type(task).bayes_metric is Task.bayes_metric:
        return None  # the family does not compute it: no draw
    total = max(spec.train.n_test, BAYES_DRAW)
    errors = 0.0
    for index, start in enumerate(range(0, total, BAYES_CHUNK)):
        size = min(BAYES_CHUNK, total - start)
        x, y = task.sample(size, derive_seed("bayes", task.family, task.params, index))
        error = task.bayes_metric(x, y)
        if error is None:
            return None
        errors += error * size
    return errors / total


def _draw(spec: config.RunSpec, task: Task) -> Data:
    """One training draw per ``n_train`` (:func:`_sizes`), each standardised on its own,
    and one validation and one test draw, all made on the CPU: a member's data depend on
    its own n_train and the data seed alone, on every device and whatever else the grid
    holds."""
    trains, val, test = {}, None, None
    for n, size in _sizes(spec).items():
        train, val, test = task.split(size, spec.train.n_val, spec.train.n_test, spec.data_seed)
        for _, y in (train, val, test):
            preflight.targets(task, y)
        trains[n] = train
    assert val is not None and test is not None
    return Data.from_blocks(task.kind, trains, val, test)
