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


class Progress:
    """Steps done out of ``total``: a tqdm bar when stderr is a terminal, else a line
    ``progress: 12000/30000 steps (40%), group 3/8, 2m10s elapsed, about 3m15s left``
    every :data:`LOG_EVERY` seconds. ``show=False`` shows nothing."""

    def __init__(self, total: int, groups: int, show: bool) -> None:
        self.total, self.groups = total, groups
        self.done, self.group = 0, 0
        terminal = sys.stderr.isatty()
        self.bar = tqdm(total=total, unit="step", desc="groups", disable=not (show and terminal))
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
        self.bar.update(steps)
        now = time.monotonic()
        if self.logging and now - self.last >= LOG_EVERY:
            self.last = now
            log.info(self.line(now - self.start))

    def line(self, elapsed: float) -> str:
        """The progress line after ``elapsed`` seconds."""
        share = self.done / self.total if self.total else 1.0
        left = elapsed * (1 - share) / share if share else float("nan")
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
