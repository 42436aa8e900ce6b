"""``depthbench run``: one job trains one task instance's grid and stores the rows.

:func:`run` is a plain function of a composed config (the Hydra entry point in
:mod:`depthbench.cli` is a thin shim over it), so tests call it through Hydra's
compose API as well as through the CLI.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from omegaconf import DictConfig
from tqdm.auto import tqdm

from depthbench import config, constructions, grid, metrics, models, provenance, results, tasks
from depthbench.errors import ConfigError, Interrupted
from depthbench.grid import Run
from depthbench.device import matmul_precision, resolve_device
from depthbench.job import Job, thread_share
from depthbench.seeding import derive_seed, digest
from depthbench.tasks import Task
from depthbench import baseline_runs
from depthbench.rows import single_rows, untrained_row
from depthbench.config import ONLINE
from depthbench.trainer import (
    Data, GroupResult, Sampler, chunks, eval_flops, member_bytes, train_flops, train_group,
)

log = logging.getLogger(__name__)


def run(cfg: DictConfig, job: Job = Job()) -> pd.DataFrame:
    """Train every run of the grid not already stored; return the rows written
    (``attrs["skipped"]``: runs of the grid found stored). ``job`` places the job
    within its sweep (its GPU, its share of the CPU threads)."""
    spec = config.parse(cfg)
    _check_results_dir(spec.results_dir)
    task = tasks.make(spec.task, **spec.task_params)
    if ONLINE in spec.grid.n_train and not task.continuous:
        raise ConfigError("grid.n_train", f"online data needs fresh inputs, but this {spec.task} "
                          "has a finite input set that the test draw shares; use sizes")
    task.check_draw(max(_sizes(spec).values()), spec.train.n_val, spec.train.n_test)
    models.check_params(spec.model, spec.model_params)
    device = resolve_device(spec.train.device, job.num)
    threads = spec.train.threads or thread_share(job)
    if threads:
        torch.set_num_threads(threads)
    runs = grid.plan(spec, task.input_shape, task.output_dim)
    _check_sizes(spec, task, runs, device)
    for stale in results.clean_stale(spec.results_dir):
        log.info("removed %s, a temporary file of a dead writer", stale)
    stored = results.stored_run_ids(spec.results_dir)
    todo = [r for r in runs if r.run_id not in stored]
    log.info(
        "%s %s: %d runs in the grid, %d already stored in %s",
        spec.task, task.params, len(runs), len(runs) - len(todo), spec.results_dir,
    )
    shaped = grid.groups(todo)
    pending = _pending_constructions(spec, task, stored) if spec.constructions else {}
    wanted = baseline_runs.plan(spec, task, stored) if spec.baselines else []
    data, bayes = None, None
    if shaped or pending or wanted:
        data = _draw(spec, task)
        bayes = task.bayes_metric(data.x_test, data.y_test)

    common = provenance.collect(device) | {
        "train.tf32": spec.train.tf32, "torch_threads": torch.get_num_threads(),
        "eps": json.dumps(list(spec.report.eps)), "eps_scale": spec.report.eps_scale or task.eps_scale,
    }
    written: list[pd.DataFrame] = []
    try:
        _execute(spec, task, device, data, bayes, todo, shaped, pending, wanted, common, written)
    except KeyboardInterrupt:  # SIGINT, or SIGTERM (the CLI turns it into one)
        stored = sum(int(f["status"].isin(["ok", "diverged"]).sum()) for f in written)
        raise Interrupted(stored, len(todo) - stored) from None

    frame = pd.concat(written, ignore_index=True) if written else pd.DataFrame(columns=results.COLUMNS)
    frame.attrs["skipped"] = len(runs) - len(todo)
    counts = Counter(frame["status"])
    log.info(
        "done: %d new rows (%s), %d skipped as stored",
        len(frame), ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none",
        len(runs) - len(todo),
    )
    return frame


def _execute(
    spec: config.RunSpec, task: Task, device: torch.device, data: Data | None,
    bayes: float | None, todo: list[Run], shaped: dict[tuple[int, int, bool], list[Run]],
    pending: dict[str, tuple[str, constructions.Builder]], wanted: list[baseline_runs.Planned],
    common: dict[str, Any], written: list[pd.DataFrame],
) -> None:
    """Store the infeasible runs, build the constructions, fit the baselines and train the
    groups, appending each stored cell's rows to ``written`` as it lands (so an
    interruption can say what is stored)."""
    infeasible = [r for r in todo if not r.fit.feasible]
    if infeasible:
        columns = _run_columns(spec, infeasible) | _infeasible_outcome(infeasible)
        written += _store(spec, task, columns, common)
    if data is None:  # drawn only when a construction, baseline or group is pending
        return
    if pending:
        written += _construct(spec, task, data, bayes, pending, common)
    if wanted:
        written += _store(spec, task, single_rows(baseline_runs.evaluate(spec, task, data, bayes, wanted)),
                          common)
    if shaped:
        data = data.to(device)
        work = _work(spec, task, shaped)
        # disable=None: tqdm shows the bar only when stderr is a terminal
        hide = None if spec.train.progress else True
        with tqdm(total=len(work) * spec.train.steps, unit="step", desc="groups",
                  disable=hide) as bar, matmul_precision(device, spec.train.tf32):
            for depth, width, members in work:
                online = members[0].member.n_train == ONLINE
                bar.set_postfix(depth=depth, width=width, members=len(members))
                model = models.build(
                    spec.model, input_shape=task.input_shape, output_dim=task.output_dim,
                    depth=depth, width=width, members=len(members), **spec.model_params,
                ).to(device)
                model.reset_parameters([derive_seed(r.member.seed, "init") for r in members])
                outcome = train_group(
                    model, data, [r.member for r in members],
                    spec.train.steps, spec.train.batch_size, spec.train.schedule, on_steps=bar.update,
                    cuda_graph=spec.train.cuda_graph,
                    online=_sampler(spec, task) if online else None,
                )
                columns = _run_columns(spec, members) | _trained_outcome(spec, members, outcome, bayes)
                written += _store(spec, task, columns, common)



MEMORY_SHARE = 0.9  # of the device's memory one model may need, by :func:`member_bytes`


def _check_sizes(spec: config.RunSpec, task: Task, runs: list[Run], device: torch.device) -> None:
    """Refuse, before any work, a minibatch larger than a training set and a model that
    cannot train in the device's memory even alone."""
    finite = [n for n in spec.grid.n_train if n != ONLINE]
    if finite and spec.train.batch_size > min(finite):
        raise ConfigError("train.batch_size", f"{spec.train.batch_size} is larger than the "
                          f"smallest training set (grid.n_train {min(finite)}); lower it")
    total = (torch.cuda.get_device_properties(device).total_memory if device.type == "cuda"
             else os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    for r in runs:
        need = member_bytes(r.fit.n_params or 0, r.fit.n_hidden or 0, task.input_dim,
                            spec.train.batch_size)
        if r.fit.feasible and need > MEMORY_SHARE * total:
            raise ConfigError("grid.budgets", f"budget {r.budget} at depth {r.depth} needs about "
                              f"{need / 2**30:.1f} GB to train one model, more than the "
                              f"{total / 2**30:.1f} GB of {device}; lower it")


def _check_results_dir(path: Path) -> None:
    """``results_dir`` must be a directory, or creatable, and writable: checked before
    any work, so a bad path costs no training."""
    if path.exists() and not path.is_dir():
        raise ConfigError("results_dir", f"{path} is a file; give a directory to store rows in")
    existing = next(p for p in (path, *path.absolute().parents) if p.exists())
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError("results_dir", f"{path} cannot be written ({existing} is not a "
                          "writable directory)")


def _work(
    spec: config.RunSpec, task: Task, shaped: dict[tuple[int, int], list[Run]]
) -> list[tuple[int, int, list[Run]]]:
    """``(depth, width, members)`` to train: each group split into member chunks that
    fit ``train.memory_gb`` (and ``train.max_members``)."""
    limit = int(spec.train.memory_gb * 2**30)
    return [
        (depth, width, part)
        for (depth, width, _), members in shaped.items()
        for part in chunks(
            members,
            member_bytes(members[0].fit.n_params or 0, members[0].fit.n_hidden or 0,
                         task.input_dim, spec.train.batch_size),
            limit,
            spec.train.max_members,
        )
    ]


def _pending_constructions(
    spec: config.RunSpec, task: Task, stored: set[str]
) -> dict[str, tuple[str, constructions.Builder]]:
    """Constructions for ``task`` not stored yet: name -> (run_id, builder)."""
    pending = {}
    for name, make in constructions.builders(task).items():
        run_id = digest({**grid.data_identity(spec), "construction": name})
        if run_id not in stored:
            pending[name] = (run_id, make)
    return pending


def _construct(
    spec: config.RunSpec, task: Task, data: Data, bayes: float | None,
    pending: dict[str, tuple[str, constructions.Builder]],
    common: dict[str, Any],
) -> list[pd.DataFrame]:
    """Build, evaluate on the validation and test draws, and store the pending
    constructions. lambda is chosen on the validation draw; evaluation is float32 on
    the CPU."""
    rows = []
    for name, (run_id, make) in pending.items():
        start = time.perf_counter()
        net = make(data.x_val, data.y_val)
        built = time.perf_counter()
        metric = metrics.output_metric(task.kind, net(data.x_test), data.y_test).item()
        log.info("constructed %s: %d hidden neurons in %d layers, lambda %.3g, test_metric %.3g",
                 name, net.n_hidden, net.depth, net.scale, metric)
        rows.append(untrained_row(
            run_id, "constructed", bayes, model=name, activation=net.activation, depth=net.depth,
            width=max(net.widths), n_params=net.n_params, n_hidden=net.n_hidden, scale=net.scale,
            val_metric=metrics.output_metric(task.kind, net(data.x_val), data.y_val).item(),
            test_metric=metric, train_time_s=built - start,
            eval_time_s=time.perf_counter() - built,
        ))
    return _store(spec, task, single_rows(rows), common)


ONLINE_DRAW = 16384  # training draw of online members: target statistics, baselines


def _sizes(spec: config.RunSpec) -> dict[int, int]:
    """The training draw of each ``n_train`` of the grid: its own size, or
    :data:`ONLINE_DRAW` for online members."""
    return {n: n or ONLINE_DRAW for n in spec.grid.n_train}


def _sampler(spec: config.RunSpec, task: Task) -> Sampler:
    """Fresh training samples for online members: ``(num, seed, step)`` -> a CPU draw from
    a stream of ``data_seed``, the member's seed and the step, apart from every other draw."""
    return lambda num, seed, step: task.sample(num, derive_seed(spec.data_seed, seed, "online", step))


def _draw(spec: config.RunSpec, task: Task) -> Data:
    """One training draw per ``n_train`` (:func:`_sizes`), each standardised on its own,
    and one validation and one test draw, all made on the CPU: a member's data depend on
    its own n_train and the data seed alone, on every device and whatever else the grid
    holds."""
    trains, val, test = {}, None, None
    for n, size in _sizes(spec).items():
        train, val, test = task.split(size, spec.train.n_val, spec.train.n_test, spec.data_seed)
        trains[n] = train
    assert val is not None and test is not None
    return Data.from_blocks(task.kind, trains, val, test)


def _infeasible_outcome(runs: list[Run]) -> dict[str, list[Any]]:
    nan = [float("nan")] * len(runs)
    return {
        "train_loss": nan, "val_loss": nan, "val_metric": nan, "test_loss": nan,
        "test_metric": nan, "bayes_metric": nan,
        "status": ["infeasible"] * len(runs), "reason": [r.fit.reason for r in runs],
        "steps": [0] * len(runs), "converged": pd.array([None] * len(runs), dtype="boolean"),
        "loss_steps": [None] * len(runs), "loss_curve": [None] * len(runs), "train_time_s": [0.0] * len(runs), "eval_time_s": [0.0] * len(runs),
        "flops": [0.0] * len(runs), "group_size": [0] * len(runs),
    }


def _trained_outcome(
    spec: config.RunSpec, runs: list[Run], out: GroupResult, bayes: float | None
) -> dict[str, list[Any]]:
    K = len(runs)
    flops = [
        float(train_flops(r.fit.n_params or 0, spec.train.batch_size * spec.train.steps)
              + eval_flops(r.fit.n_params or 0, r.member.n_train + spec.train.n_test))
        for r in runs
    ]
    return {
        "train_loss": out.train_loss.tolist(), "val_loss": out.val_loss.tolist(),
        "val_metric": out.val_metric.tolist(), "test_loss": out.test_loss.tolist(),
        "test_metric": out.test_metric.tolist(),
        "bayes_metric": [float("nan") if bayes is None else bayes] * K,
        "status": ["diverged" if d else "ok" for d in out.diverged],
        "reason": ["loss became non-finite" if d else None for d in out.diverged],
        "steps": out.steps.tolist(),
        "converged": pd.array(out.converged.tolist(), dtype="boolean"),
        "loss_steps": [out.curve_steps] * K, "loss_curve": out.curve.tolist(),
        "train_time_s": [out.train_time_s / K] * K, "eval_time_s": [out.eval_time_s / K] * K,
        "flops": flops, "group_size": [K] * K,
    }


def _run_columns(spec: config.RunSpec, runs: list[Run]) -> dict[str, Any]:
    """Identity columns of trained (or infeasible) runs."""
    return {
        "model": spec.model,
        **{f"model.{k}": v for k, v in spec.model_params.items()},
        "depth": [r.depth for r in runs],
        "width": pd.array([r.fit.width for r in runs], dtype="Int64"),
        "budget": pd.array([r.budget for r in runs], dtype="Int64"),
        "n_params": pd.array([r.fit.n_params for r in runs], dtype="Int64"),
        "n_hidden": pd.array([r.fit.n_hidden for r in runs], dtype="Int64"),
        "scale": float("nan"), "ridge": float("nan"),
        "n_train": [r.member.n_train for r in runs],
        "seed": pd.array([r.member.seed for r in runs], dtype="Int64"),
        "lr": [r.member.lr for r in runs],
        "schedule": spec.train.schedule.describe(),
        "batch_size": pd.array([spec.train.batch_size] * len(runs), dtype="Int64"),
        "cell_id": [r.cell_id for r in runs],
        "run_id": [r.run_id for r in runs],
    }


def _store(
    spec: config.RunSpec, task: Task, columns: dict[str, Any], common: dict[str, Any]
) -> list[pd.DataFrame]:
    """Rows = the task's identity + ``columns`` + provenance; one file per cell."""
    rows = pd.DataFrame(
        {
            "task": spec.task,
            **{f"task.{k}": json.dumps(v) if isinstance(v, list) else v
               for k, v in task.params.items()},
            **{f"theory.{k}": v for k, v in task.theory.items()},
            **columns,
            "chance": task.chance,
            "n_val": spec.train.n_val,
            "n_test": spec.train.n_test,
            "data_seed": spec.data_seed,
            "schema_version": results.SCHEMA_VERSION,
            **common,
        }
    )
    frames = []
    for cell_id, cell in rows.groupby("cell_id", sort=False):
        name = f"{cell_id}-{digest(sorted(cell['run_id']))[:8]}"
        results.write(cell, spec.results_dir, name)
        frames.append(cell)
    return frames
