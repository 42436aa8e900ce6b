"""What one Hydra job knows of the sweep it belongs to, and the sweep's summary.

A job reads its number and its share of the machine from Hydra's runtime config
(:func:`current_job`): the number picks its GPU on a multi-GPU box, the share sets
torch's CPU threads so that side-by-side jobs do not oversubscribe the cores. Each
job leaves ``depthbench_job.json`` in its output directory; :class:`SweepSummary`
(a Hydra callback) reads them all when the sweep ends and prints one summary.
"""

from __future__ import annotations

import itertools
import json
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from hydra import compose, initialize_config_dir
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from depthbench.cli import conf_dir

RECORD = "depthbench_job.json"


@dataclass(frozen=True)
class Job:
    """One job of a run or sweep: ``num`` (0 outside a multirun), ``parallel``
    (jobs sharing this machine's CPUs, when the launcher says), ``cpus`` (CPUs the
    launcher gives each job, submitit's ``cpus_per_task``), ``output_dir``
    (where its record goes; ``None`` outside Hydra) and the ``overrides`` naming it."""

    num: int = 0
    multirun: bool = False
    parallel: int | None = None
    cpus: int | None = None
    output_dir: Path | None = None
    overrides: tuple[str, ...] = ()


def current_job() -> Job:
    """The running Hydra job, or a plain :class:`Job` when Hydra is not running."""
    if not HydraConfig.initialized():
        return Job()
    hc = HydraConfig.get()
    n_jobs = OmegaConf.select(hc, "launcher.n_jobs")  # joblib
    return Job(
        num=OmegaConf.select(hc, "job.num") or 0,
        multirun=hc.mode.name == "MULTIRUN",
        parallel=available_cpus() if n_jobs == -1 else n_jobs,
        cpus=OmegaConf.select(hc, "launcher.cpus_per_task"),  # submitit
        output_dir=Path(hc.runtime.output_dir),
        overrides=tuple(hc.overrides.task),
    )


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def thread_share(job: Job) -> int | None:
    """torch threads for ``job``: SLURM's ``SLURM_CPUS_PER_TASK`` when set, else the
    launcher's CPUs per job, else the CPUs divided among the launcher's parallel
    jobs; ``None`` (torch's default) when nothing says how the machine is shared."""
    slurm = os.environ.get("SLURM_CPUS_PER_TASK")
    if slurm and slurm.isdigit():
        return int(slurm)
    if job.cpus:
        return job.cpus
    if job.parallel and job.parallel > 1:
        return max(1, available_cpus() // job.parallel)
    return None


def record(job: Job, rows: pd.DataFrame | None = None, error: str | None = None) -> None:
    """Leave the job's outcome in its output directory for :class:`SweepSummary`."""
    if job.output_dir is None:
        return
    counts = Counter(rows["status"]) if rows is not None else Counter()
    skipped = rows.attrs.get("skipped", 0) if rows is not None else 0
    job.output_dir.mkdir(parents=True, exist_ok=True)
    (job.output_dir / RECORD).write_text(json.dumps({
        "num": job.num, "overrides": list(job.overrides), "failed": error,
        "rows": dict(counts), "skipped": skipped,
    }))


def summarize(records: list[dict[str, Any]]) -> str:
    """The end-of-sweep summary of the jobs' records."""
    failed = [r for r in records if r["failed"]]
    rows: Counter = Counter()
    for r in records:
        rows.update(r["rows"])
    lines = [
        f"sweep summary: {len(records)} jobs, {len(records) - len(failed)} done, {len(failed)} failed",
        f"  rows written: ok {rows['ok']}, diverged {rows['diverged']}, infeasible "
        f"{rows['infeasible']}, constructed {rows['constructed']}, baseline {rows['baseline']}; "
        "skipped as already stored "
        f"{sum(r['skipped'] for r in records)}",
    ]
    lines += [f"  failed job {r['num']} ({' '.join(r['overrides'])}): {r['failed']}"
              for r in sorted(failed, key=lambda r: r["num"])]
    return "\n".join(lines)


class SweepSummary(Callback):
    """Prints :func:`summarize` when a multirun ends, and exits with status 1 when a
    job failed (the other jobs ran to the end unless ``fail_fast=true``)."""

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        for stale in Path(config.hydra.sweep.dir).glob(f"*/{RECORD}"):  # a reused sweep dir
            stale.unlink()

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        records = [json.loads(p.read_text())
                   for p in sorted(Path(config.hydra.sweep.dir).glob(f"*/{RECORD}"))]
        if not records:
            return
        print(summarize(records), flush=True)
        if any(r["failed"] for r in records):
            raise SystemExit(1)


def compose_job(overrides: list[str], hydra: bool = False) -> DictConfig:
    """The job config ``overrides`` compose to (with Hydra's own under ``hydra``)."""
    with initialize_config_dir(config_dir=str(conf_dir()), version_base="1.3"):
        return compose("config", overrides=overrides, return_hydra_config=hydra)


def jobs(experiment: str) -> list[list[str]]:
    """The overrides of every job ``depthbench run -m experiment=EXPERIMENT`` launches:
    the product of the experiment's ``hydra.sweeper.params`` (one job without them)."""
    params = compose_job([f"experiment={experiment}"], hydra=True).hydra.sweeper.params
    params = OmegaConf.to_container(params) if params else {}
    parsed = OverridesParser.create().parse_overrides([f"{k}={v}" for k, v in params.items()])
    axes = [[f"{o.key_or_group}={v}" for v in o.sweep_string_iterator()] for o in parsed]
    return [[f"experiment={experiment}", *combo] for combo in itertools.product(*axes)]
