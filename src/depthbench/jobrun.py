"""Running one job: its body (:func:`execute`: train, record for the sweep summary,
warn of cells to read with care) and its stop on SIGINT or SIGTERM (:func:`interruptible`)."""

from __future__ import annotations

import signal
import sys
import traceback
from collections.abc import Callable

import pandas as pd
from omegaconf import DictConfig

from depthbench import analysis, sweep
from depthbench.errors import DepthbenchError
from depthbench.job import Job
from depthbench.report import headline
from depthbench.run import run


def execute(cfg: DictConfig, job: Job) -> int:
    """Run ``job`` and leave its record for the sweep summary; the exit status: 0
    done, 2 bad input (one line), 1 an unexpected error (its traceback printed)."""
    try:
        rows = run(cfg, job)
    except DepthbenchError as exc:
        message = str(exc)
        status = 2
    except Exception as exc:
        traceback.print_exc()
        message = f"{type(exc).__name__}: {exc}"
        status = 1
    else:
        sweep.record(job, rows, results_dir=str(cfg.results_dir))
        warn_flags(rows)
        if not job.multirun:  # a sweep says it once, in its summary
            headline.show([str(cfg.results_dir)])
            print(sweep.report_hint([str(cfg.results_dir)]), file=sys.stderr)
        return 0
    print(f"error: {message}", file=sys.stderr)
    sweep.record(job, error=message)
    return status


def warn_flags(rows: pd.DataFrame) -> None:
    """One warning line naming the cells just trained whose chosen learning rate is at
    the edge of the grid or whose members did not converge."""

    trained = rows[rows["status"].isin(["ok", "diverged"])]
    if trained.empty:
        return
    labelled = analysis.label(trained)
    flagged = analysis.flags(analysis.aggregate(labelled, analysis.curves(labelled)))
    if len(flagged):
        cells = "; ".join(
            f"n_train {n or 'online'} depth {d} budget {b}: {p}"
            for n, d, b, p in zip(
                flagged["n_train"], flagged["depth"], flagged["budget"], flagged["problem"]
            )
        )
        print(
            f"warning: {len(flagged)} cells to read with care (lr at the grid's edge or not "
            f"converged): {cells}",
            file=sys.stderr,
        )


def interruptible(body: Callable[[], int]) -> int:
    """``body()``'s exit status; stopped by SIGINT or SIGTERM (a scheduler's stop,
    raised as KeyboardInterrupt), one line saying what the job stored and that the
    same command resumes, and exit status 130, or 143 for SIGTERM."""
    stopped_by = signal.SIGINT

    def terminate(signum: int, frame: object) -> None:
        nonlocal stopped_by
        stopped_by = signal.SIGTERM
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        return body()
    except KeyboardInterrupt as exc:
        print(
            str(exc)
            or "interrupted; every stored run is kept: run the same command "
            "again to train the rest",
            file=sys.stderr,
        )
        return 128 + stopped_by
    finally:
        signal.signal(signal.SIGTERM, previous)
