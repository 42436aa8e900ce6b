"""Checks a job makes before any work, on what can be known before it: where its rows
go, whether this machine can hold its draws, and whether the float32 trainer can use
its task's targets. Each failure is a :class:`~depthbench.errors.ConfigError` naming
the key to change, so a bad configuration costs no training and stores nothing."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import torch

from depthbench.errors import ConfigError
from depthbench.tasks import Task

MEMORY_SHARE = 0.9  # of a device's (or this machine's) memory one model or draw may need
PROBE = 4096  # samples of the probe draw whose targets are checked before any work


def machine_bytes() -> int:
    """This machine's physical memory, in bytes."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def results_dir(path: Path) -> None:
    """``results_dir`` must be a directory, or creatable, and writable: what is missing
    of it is created, a file written and removed in it, and what was created removed
    again (a run that stops later on bad input leaves no empty directory behind)."""
    try:
        _writable(path)
    except OSError as exc:  # a name too long, a parent that is a file, no permission
        raise ConfigError(
            "results_dir", f"{path} cannot be created or written ({exc.strerror})"
        ) from None


def _writable(path: Path) -> None:
    if path.exists() and not path.is_dir():
        raise ConfigError("results_dir", f"{path} is a file; give a directory to store rows in")
    if path.is_symlink() and not path.exists():
        raise ConfigError(
            "results_dir", f"{path} is a link to {os.readlink(path)}, which does not exist"
        )
    missing = [p for p in (path, *path.absolute().parents) if not p.exists()]
    path.mkdir(parents=True, exist_ok=True)
    try:
        with tempfile.TemporaryFile(dir=path):
            pass
    finally:
        for created in missing:  # deepest first; one another job has written into stays
            try:
                created.rmdir()
            except OSError:
                break


def draws(task: Task, sizes: dict[str, int]) -> None:
    """Refuse draws this machine cannot hold: ``sizes`` maps a key (``grid.n_train``,
    ``train.n_test``) to the samples drawn for it, each ``input_dim + 1`` float32
    values; the largest is named where they only fail together."""
    total, each = machine_bytes(), 4 * (task.input_dim + 1)
    key = max(sizes, key=lambda k: sizes[k])
    need = sum(sizes.values()) * each
    if need > MEMORY_SHARE * total:
        raise ConfigError(
            key,
            f"{sizes[key]} samples (with the other draws, {sum(sizes.values())}) need about "
            f"{need / 2**30:.3g} GB, more than the {total / 2**30:.1f} GB of this machine; "
            "lower it",
        )


def targets(task: Task, y: torch.Tensor) -> None:
    """Refuse regression targets ``y`` ``[N]`` that the trainer cannot use: not finite
    in float32 (the dtype they are drawn and stored in), or all equal there (no
    variance to standardise by: every row would read as diverged). Standardisation
    runs in float64, so targets whose square overflows float32 are fine."""
    if task.kind != "regression":
        return
    y32 = y.float()
    where = f"targets of {task.family} {task.params}"
    if not torch.isfinite(y32).all():
        raise ConfigError(
            "task", f"{where} overflow float32; narrow task.low/task.high or lower the degree"
        )
    std = y32.double().std().item() if len(y32) > 1 else 0.0
    if not std > 0:
        raise ConfigError(
            "task",
            f"{where} have a standard deviation of {std:.3g} in float32 (all equal): the "
            "trainer cannot standardise them; change task.low/task.high",
        )


def probe(task: Task, seed: int) -> None:
    """:func:`targets` on a probe draw of :data:`PROBE` samples of its own stream (none
    for classification, whose labels need no check)."""
    if task.kind == "regression":
        targets(task, task.sample(PROBE, seed)[1])
