"""The ``depthbench`` command: ``run`` and ``plan`` (Hydra overrides), ``report``,
``front``, ``ls`` (a results store) and ``list`` (the config tree).

``depthbench run [HYDRA OVERRIDES]`` hands its arguments to Hydra, so every Hydra
feature (``-m`` multirun, ``--cfg job``, ``--help``) works as documented there.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path
from typing import Any, cast

import hydra
from omegaconf import DictConfig

from depthbench.errors import DepthbenchError
from depthbench.experiments import conf_dir


def _run_job(cfg: DictConfig) -> None:
    """One Hydra job. A failure ends a single run (exit 2 for bad input); in a
    multirun the job trains in a watched child process (:mod:`depthbench.jobproc`)
    and a failure, death by a signal included, is recorded for the sweep summary
    while the other jobs go on, unless ``fail_fast``."""
    from depthbench import jobproc, jobrun
    from depthbench.job import current_job

    job = current_job()
    if job.multirun:
        status = jobproc.run_watched(cfg, job)
        if status and not cfg.get("fail_fast", False):
            return
    else:
        _refuse_an_unlaunched_sweep()
        status = jobrun.execute(cfg, job)
    if status:
        raise SystemExit(status)


def _refuse_an_unlaunched_sweep() -> None:
    """Exit 2 with one line where a single run would take one instance of the sweep
    its experiment declares: that sweep is launched by ``-m``."""
    from hydra.core.hydra_config import HydraConfig
    from omegaconf import OmegaConf

    from depthbench.experiments import unswept

    hydra_cfg = HydraConfig.get()
    sweep = OmegaConf.to_container(hydra_cfg.sweeper.params) if hydra_cfg.sweeper.params else {}
    open_keys = unswept(cast("dict[str, Any]", sweep), list(hydra_cfg.overrides.task))
    if open_keys:
        line = " ".join(["depthbench run -m", *hydra_cfg.overrides.task])
        print(
            f"error: this experiment declares a sweep over {', '.join(open_keys)}; without "
            f"-m only one instance would run. Run the sweep: {line} (or fix "
            f"{open_keys[0]}=... for one instance)",
            file=sys.stderr,
        )
        raise SystemExit(2)


def _hydra_run(argv: list[str]) -> int:
    """``depthbench run``: Hydra's main over :func:`_run_job`, stopped as
    :func:`depthbench.jobrun.interruptible` says."""
    from depthbench.jobproc import mark_sweep
    from depthbench.jobrun import interruptible
    from depthbench.overrides import bad_override, composition_error, flag_error

    mark_sweep()
    bad = flag_error(argv) or bad_override(argv) or composition_error(argv)
    if bad:
        print(f"error: {bad}", file=sys.stderr)
        return 2
    sys.argv = ["depthbench run", *argv]
    main = hydra.main(version_base="1.3", config_path=str(conf_dir()), config_name="config")

    def body() -> int:
        main(_run_job)()
        return 0

    return interruptible(body)


def _report(args: argparse.Namespace) -> int:
    from depthbench.report import build_report, headline_of

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        try:
            page = build_report(args.results, args.out, args.eps, pdf=args.pdf)
        except KeyboardInterrupt:
            print(
                f"interrupted: nothing written; the report in {args.out} is as it was",
                file=sys.stderr,
            )
            return 130
        finally:
            for w in caught:  # e.g. a skipped file, named: said plainly, without a source line
                print(f"warning: {w.message}", file=sys.stderr)
    print("\n".join(headline_of(page)))
    print(f"wrote {page}")
    return 0


def _front(args: argparse.Namespace) -> int:
    from depthbench.report.front import build

    print(f"wrote {build(args.reports)}")
    return 0


def _ls(args: argparse.Namespace) -> int:
    from depthbench.inventory import describe

    print(describe(args.results))
    return 0


def _list(args: argparse.Namespace) -> int:
    from depthbench.catalog import describe

    print(describe(conf_dir()))
    return 0


def _version() -> str:
    """``depthbench X (torch Y, Python Z)``: what a bug report or a methods section needs."""
    import platform

    import torch

    from depthbench import __version__

    return (
        f"depthbench {__version__} (torch {torch.__version__}, Python {platform.python_version()})"
    )


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "run":
        return _hydra_run(argv[1:])
    if argv and argv[0] == "plan":
        from depthbench import plan

        return plan.main(argv[1:])
    parser = argparse.ArgumentParser(
        prog="depthbench", description="Depth-efficiency benchmarks on hierarchical data."
    )
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="train a grid (Hydra overrides follow; see: depthbench run --help)")
    sub.add_parser(
        "plan", help="jobs, models, FLOPs and estimated time of a run or sweep, nothing trained"
    )
    report = sub.add_parser("report", help="tables and plots from stored results only")
    report.add_argument("results", nargs="+", type=Path, help="results director(y/ies)")
    report.add_argument("--out", type=Path, required=True, help="report directory to write")
    report.add_argument(
        "--eps",
        type=float,
        nargs="+",
        metavar="EPS",
        help="test_metric thresholds for P_d / E_d, for every task "
        "(default: each experiment's report.eps, declared with its run "
        "and stored in its rows)",
    )
    report.add_argument("--pdf", action="store_true", help="write every figure as PDF too")
    report.set_defaults(func=_report)
    front = sub.add_parser(
        "front", help="the front page over committed reports, from their claims.yaml"
    )
    front.add_argument("reports", type=Path, help="the reports directory (holds claims.yaml)")
    front.set_defaults(func=_front)
    ls = sub.add_parser(
        "ls", help="what results directories hold, per protocol (cells, seeds, commits, flags)"
    )
    ls.add_argument("results", nargs="+", type=Path, help="results director(y/ies)")
    ls.set_defaults(func=_ls)
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
