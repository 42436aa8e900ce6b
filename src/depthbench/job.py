"""What one Hydra job knows of the sweep it belongs to, and its share of the machine.

A job reads its number and its share from Hydra's runtime config (:func:`current_job`):
the number picks its GPU on a multi-GPU box (:func:`depthbench.device.resolve_device`),
the share sets torch's CPU threads (:func:`thread_share`) so that side-by-side jobs do
not oversubscribe the cores.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf


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
    assert hc.mode is not None  # Hydra sets RUN or MULTIRUN before a job starts
    node = cast(DictConfig, hc)  # a DictConfig node, typed as its schema (HydraConf)
    n_jobs = OmegaConf.select(node, "launcher.n_jobs")  # joblib
    return Job(
        num=OmegaConf.select(node, "job.num") or 0,
        multirun=hc.mode.name == "MULTIRUN",
        parallel=available_cpus() if n_jobs == -1 else n_jobs,
        cpus=OmegaConf.select(node, "launcher.cpus_per_task"),  # submitit
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


def crowding(threads: int) -> str | None:
    """A warning where the machine is busier than its CPUs: a 1-minute load average at
    or above the CPUs this process may use, before this job's ``threads`` start; torch's
    threads then spin against the other work and a job can run many times slower than
    its measured time. None on an idle machine (or where the OS reports no load)."""
    if not hasattr(os, "getloadavg"):
        return None
    load, cpus = os.getloadavg()[0], available_cpus()
    if load < cpus:
        return None
    return (
        f"this machine is busy: load average {load:.1f} on {cpus} CPUs before this job's "
        f"{threads} threads start; training may take several times its usual time "
        "(train.threads=1 spins least; or run when the machine is idle)"
    )
