"""Learning-rate schedules and the training-loss record that says whether a run converged.

A schedule is a per-step multiplier of each member's peak learning rate
(``train.schedule``): ``cosine`` (default) and ``linear`` warm up linearly over the
first ``train.warmup`` fraction of the steps, then decay to ``train.final_lr`` times
the peak (cosine: Loshchilov & Hutter 2017, eq. 5 without restarts); ``constant``
keeps the peak throughout (depthbench's protocol before schema version 3).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

SCHEDULES = ("cosine", "linear", "constant")
CONVERGED_GAIN = 0.02  # at most this relative fall of the training loss over the last tenth
FIT_LOSS = 1e-3  # a training loss this low counts as fitted, whatever its slope


@dataclass(frozen=True)
class Schedule:
    """``name`` in :data:`SCHEDULES`; ``warmup`` and ``final`` are fractions (of the
    steps, of the peak rate)."""

    name: str = "cosine"
    warmup: float = 0.05
    final: float = 0.01

    def __post_init__(self) -> None:
        if self.name not in SCHEDULES:
            raise ValueError(f"schedule {self.name!r} not in {SCHEDULES}")
        if not (0 <= self.warmup < 1 and 0 <= self.final <= 1):
            raise ValueError(
                f"warmup {self.warmup} must be in [0, 1), final {self.final} in [0, 1]"
            )

    def factors(self, steps: int) -> torch.Tensor:
        """Multipliers of the peak rate, float32 ``[steps]``; step ``t`` (0-based) uses ``[t]``."""
        if self.name == "constant":
            return torch.ones(steps)
        t = np.arange(steps, dtype=np.float64)
        ramp = max(1, math.ceil(self.warmup * steps)) if self.warmup > 0 else 0
        rise = np.minimum(1.0, (t + 1) / ramp) if ramp else np.ones(steps)
        frac = np.clip((t - ramp) / max(1, steps - ramp - 1), 0.0, 1.0)  # 0 -> 1 after warm-up
        shape = 0.5 * (1 + np.cos(math.pi * frac)) if self.name == "cosine" else 1 - frac
        decay = self.final + (1 - self.final) * shape
        return torch.tensor(np.where(t < ramp, rise, decay), dtype=torch.float32)

    def describe(self) -> str:
        if self.name == "constant":
            return "constant"
        return f"{self.name} (warm-up {self.warmup:g}, final {self.final:g} x peak)"


def checkpoints(steps: int) -> list[int]:
    """Steps after which the mean training loss since the previous checkpoint is recorded:
    log-spaced from step 1 up to 0.8 ``steps``, then 0.9 ``steps`` and ``steps``, so the
    last two windows are the last two tenths of training (:func:`converged`)."""
    early = np.geomspace(1, max(1.0, 0.8 * steps), 8)
    points = {int(round(s)) for s in early} | {int(round(0.9 * steps)), steps}
    return sorted(p for p in points if 1 <= p <= steps)


def converged(curve: np.ndarray, diverged: np.ndarray, chance_loss: np.ndarray) -> np.ndarray:
    """Per member: did training converge? ``curve`` ``[K, P]`` from :func:`checkpoints`,
    ``chance_loss`` ``[K]`` the loss of the best constant prediction
    (:func:`depthbench.trainer.constant_loss`).

    Rule: the mean training loss over the last tenth of the steps fell by less than
    :data:`CONVERGED_GAIN` (2%) relative to the tenth before, or is below
    :data:`FIT_LOSS` (the training set is fitted); never at a plateau within
    :data:`CONVERGED_GAIN` of ``chance_loss`` (a net predicting a constant has found
    nothing: under a decaying schedule its last tenth is flat whatever it could still
    learn), for a diverged member, or a run with fewer than two windows. A flat last
    tenth is necessary, not sufficient: the best-effort fit (:mod:`depthbench.refit`)
    decides whether a cell's number is the architecture's (docs/science.md).
    """
    if curve.shape[1] < 2:
        return np.zeros(len(curve), dtype=bool)
    last, before = curve[:, -1], curve[:, -2]
    with np.errstate(invalid="ignore"):
        flat = last >= (1 - CONVERGED_GAIN) * before
        fitted = last < FIT_LOSS
        stalled = last >= (1 - CONVERGED_GAIN) * chance_loss
    return (flat | fitted) & ~stalled & np.isfinite(last) & ~diverged
