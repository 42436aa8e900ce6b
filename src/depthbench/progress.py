"""Training progress a person can see: a bar on a terminal, and elsewhere (a SLURM log,
``> log``) a log line at a steady interval, so that a long job shows that it lives."""

from __future__ import annotations

import logging
import sys
import time
from types import TracebackType
from typing import Any

from tqdm.auto import tqdm

log = logging.getLogger("depthbench.progress")

LOG_EVERY = 60.0  # seconds between progress lines when stderr is not a terminal


LAYER_COST = 1e6  # the fixed cost of one layer's step (kernel launches, Python), in
# FLOPs of matmul it takes as long as; of the order measured on a 2-core CPU and an H100


def step_cost(depth: int, n_params: int, members: int, batch_size: int) -> float:
    """The cost of one training step of a group, in FLOP equivalents: its matmul FLOPs
    (6 per parameter and sample, :func:`depthbench.trainer.train_flops`) plus
    :data:`LAYER_COST` per layer, so that many small groups are not counted as free."""
    return 6.0 * n_params * members * batch_size + LAYER_COST * (depth + 1)


class Progress:
    """Training progress over groups of ``steps`` steps each: a tqdm bar of steps when
    stderr is a terminal, else a line ``progress: 12000/30000 steps (40%), group 3/8,
    2m10s elapsed, about 3m15s left`` every :data:`LOG_EVERY` seconds. The time left is
    weighted by each group's ``costs`` per step (:func:`step_cost`), not by steps, so
    that it does not grow as the larger groups come. ``show=False`` shows nothing."""

    def __init__(self, costs: list[float], steps: int, show: bool) -> None:
        self.costs, self.steps = costs, steps
        self.total, self.groups = len(costs) * steps, len(costs)
        self.done, self.group, self.spent = 0, 0, 0.0
        terminal = sys.stderr.isatty()
        self.bar = tqdm(
            total=self.total, unit="step", desc="groups", disable=not (show and terminal)
        )
        self.logging = show and not terminal
        self.start = self.last = time.monotonic()

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.bar.close()

    def next_group(self, **about: Any) -> None:
        """A new group starts (``about`` shown beside the bar)."""
        self.group += 1
        self.bar.set_postfix(**about)

    def update(self, steps: int) -> None:
        self.done += steps
        self.spent += steps * self.costs[self.group - 1] if self.group else 0.0
        self.bar.update(steps)
        now = time.monotonic()
        if self.logging and now - self.last >= LOG_EVERY:
            self.last = now
            log.info(self.line(now - self.start))

    def line(self, elapsed: float) -> str:
        """The progress line after ``elapsed`` seconds: the time left is the cost left
        at the rate (cost per second) of the cost done."""
        whole = sum(self.costs) * self.steps
        share = self.done / self.total if self.total else 1.0
        left = elapsed * (whole - self.spent) / self.spent if self.spent else float("nan")
        return (
            f"progress: {self.done}/{self.total} steps ({share:.0%}), group "
            f"{self.group}/{self.groups}, {_clock(elapsed)} elapsed, about {_clock(left)} left"
        )


def _clock(seconds: float) -> str:
    if seconds != seconds:  # NaN: no step done yet
        return "?"
    minutes, sec = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{sec:02d}s"
