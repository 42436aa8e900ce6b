"""Where a job computes: its device (:func:`resolve_device`) and, on CUDA, its matmul
precision (:func:`matmul_precision`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

from depthbench.errors import ConfigError


def resolve_device(name: str, job_num: int = 0) -> torch.device:
    """``auto`` -> CUDA when available, else CPU; ``cuda`` must be available. On a
    box with several GPUs job ``k`` of a sweep takes GPU ``k mod count``: with one
    job per GPU at a time (``hydra.launcher.n_jobs`` = GPUs) no two jobs share one."""
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError(
            "train.device", "cuda requested but no CUDA device is visible; use auto or cpu"
        )
    if name in ("auto", "cuda") and torch.cuda.is_available():
        return torch.device("cuda", job_num % torch.cuda.device_count())
    return torch.device("cpu")


@contextmanager
def matmul_precision(device: torch.device, tf32: bool) -> Iterator[None]:
    """On CUDA, float32 matmuls use TF32 tensor cores while the block runs when
    ``tf32`` (``train.tf32``); the previous setting is restored after. No effect on
    the CPU, whose numbers stay full float32."""
    if device.type != "cuda":
        yield
        return
    saved = torch.get_float32_matmul_precision()
    torch.set_float32_matmul_precision("high" if tf32 else "highest")
    try:
        yield
    finally:
        torch.set_float32_matmul_precision(saved)
