"""The ``depthbench`` command: ``run`` (Hydra), ``report`` and ``list``.

``depthbench run [HYDRA OVERRIDES]`` hands its arguments to Hydra, so every Hydra
feature (``-m`` multirun, ``--cfg job``, ``--help``) works as documented there.
"""

from __future__ import annotations

import argparse
import signal
import sys
import traceback
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import hydra
import pandas as pd
from omegaconf import DictConfig

from depthbench.errors import DepthbenchError

if TYPE_CHECKING:
    from depthbench.sweep import Job


def conf_dir() -> Path:
    """The Hydra config tree: packaged with a wheel, or ``conf/`` of a source checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "conf", here.parents[1] / "conf"):
        if (candidate / "config.yaml").is_file():
            return candidate
    raise DepthbenchError(f"no Hydra config tree found beside {here}")


def _run_job(cfg: DictConfig) -> None:
    """One Hydra job. A failure ends a single run (exit 2 for bad input); in a
    multirun the job trains in a watched child process (:mod:`depthbench.jobproc`)
    and a failure, death by a signal included, is recorded for the sweep summary
    while the other jobs go on, unless ``fail_fast``."""
    from depthbench import jobproc, sweep

    job = sweep.current_job()
    if job.multirun:
        status = jobproc.run_watched(cfg, job)
        if status and not cfg.get("fail_fast", False):
            return
    else:
        status = execute(cfg, job)
    if status:
        raise SystemExit(status)


def execute(cfg: DictConfig, job: Job) -> int:
    """Run ``job`` and leave its record for the sweep summary; the exit status: 0
    done, 2 bad input (one line), 1 an unexpected error (its traceback printed)."""
    from depthbench import sweep
    from depthbench.run import run

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
        sweep.record(job, rows)
        _warn_flags(rows)
        return 0
    print(f"error: {message}", file=sys.stderr)
    sweep.record(job, error=message)
    return status


def _warn_flags(rows: pd.DataFrame) -> None:
    """One warning line naming the cells just trained whose chosen learning rate is at
    the edge of the grid or whose members did not converge."""
    from depthbench import analysis

    trained = rows[rows["status"].isin(["ok", "diverged"])]
    if trained.empty:
        return
    labelled = analysis.label(trained)
    flagged = analysis.flags(analysis.aggregate(labelled, analysis.curves(labelled)))
    if len(flagged):
        cells = "; ".join(f"n_train {n or 'online'} depth {d} budget {b}: {p}" for n, d, b, p in
                          zip(flagged["n_train"], flagged["depth"], flagged["budget"],
                              flagged["problem"]))
        print(f"warning: {len(flagged)} cells to read with care (lr at the grid's edge or not "
              f"converged): {cells}", file=sys.stderr)


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
        print(str(exc) or "interrupted; every stored run is kept: run the same command "
              "again to train the rest", file=sys.stderr)
        return 128 + stopped_by
    finally:
        signal.signal(signal.SIGTERM, previous)


def _hydra_run(argv: list[str]) -> int:
    """``depthbench run``: Hydra's main over :func:`_run_job`, :func:`interruptible`."""
    sys.argv = ["depthbench run", *argv]
    main = hydra.main(version_base="1.3", config_path=str(conf_dir()), config_name="config")

    def body() -> int:
        main(_run_job)()
        return 0

    return interruptible(body)


def _report(args: argparse.Namespace) -> int:
    from depthbench.report import build_report

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        try:
            page = build_report(args.results, args.out, args.eps)
        finally:
            for w in caught:  # e.g. a skipped file, named: said plainly, without a source line
                print(f"warning: {w.message}", file=sys.stderr)
    print(f"wrote {page}")
    return 0


def _list(args: argparse.Namespace) -> int:
    from depthbench.catalog import describe

    print(describe(conf_dir()))
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "run":
        return _hydra_run(argv[1:])
    parser = argparse.ArgumentParser(
        prog="depthbench", description="Depth-efficiency benchmarks on hierarchical data."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="train a grid (Hydra overrides follow; see: depthbench run --help)")
    report = sub.add_parser("report", help="tables and plots from stored results only")
    report.add_argument("results", nargs="+", type=Path, help="results director(y/ies)")
    report.add_argument("--out", type=Path, required=True, help="report directory to write")
    report.add_argument("--eps", type=float, nargs="+", metavar="EPS",
                        help="test_metric thresholds for P_d / E_d, for every task "
                             "(default: each experiment's report.eps, declared with its run "
                             "and stored in its rows)")
    report.set_defaults(func=_report)
    listing = sub.add_parser("list", help="task families, models and experiments available")
    listing.set_defaults(func=_list)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except DepthbenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
