"""Wall time of an experiment's ``_full`` sweep, estimated two ways.

``python benchmarks/estimate_full.py EXPERIMENT [results/EXPERIMENT]`` counts the
full sweep's training FLOPs (``trainer.train_flops``: 6 x batch x n_params per step
and model) and divides them by the rate of the stored CPU-size run (the same
count over its summed training time). Larger models run nearer the matmul rate than
the CPU size's small ones, so this is an upper bound for this CPU.

``python benchmarks/estimate_full.py EXPERIMENT --probe STEPS [--device cuda] [--json F]``
measures instead: it runs every job of the ``_full`` sweep for real on the device,
with ``STEPS`` steps instead of the config's, into a temporary results directory,
and extrapolates each job's wall time to the full step count,
``wall + train_time x (full_steps / STEPS - 1)``: data, models, evaluation and
writing are timed as they are; only the training loop, whose steps all cost the
same, is scaled. One-off costs inside it (CUDA graph capture) are scaled too, so
the estimate errs high.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from depthbench import config, grid, results, tasks, trainer
from depthbench.errors import DepthbenchError
from depthbench.experiments import compose_job, conf_dir, jobs
from depthbench.run import run


def train_flops(experiment: str) -> tuple[float, int]:
    """(training FLOPs, models) of every feasible run of the sweep."""
    total, models = 0.0, 0
    for overrides in jobs(experiment):
        spec = config.parse(compose_job(overrides))
        task = tasks.make(spec.task, **spec.task_params)
        for r in grid.plan(spec, task.input_shape, task.output_dim):
            if r.fit.feasible:
                samples = spec.train.batch_size * spec.train.steps
                total += trainer.train_flops(r.fit.n_params, samples)
                models += 1
    return total, models


def from_cpu_rate(experiment: str, store: Path) -> None:
    rows = results.load(store)
    ok = rows[rows["status"].isin(["ok", "diverged"])]
    done = trainer.train_flops(ok["n_params"], ok["batch_size"] * ok["steps"].clip(lower=1))
    rate = done.sum() / ok["train_time_s"].sum() if len(ok) else float("nan")
    for name in (experiment, f"{experiment}_full"):
        flops, models = train_flops(name)
        print(
            f"{name}: {models} models, {flops:.3g} training FLOPs, "
            f"{flops / rate / 3600:.3g} h at this CPU's rate in the {experiment} run "
            f"({rate / 1e9:.2f} GFLOP/s)"
        )


def probe(experiment: str, steps: int, device: str) -> dict:
    """Run every job of ``EXPERIMENT_full`` with ``steps`` steps; per job its wall and
    training time, and the full-size wall time extrapolated from them."""
    name = f"{experiment}_full"
    out = {"experiment": name, "probe_steps": steps, "device": device, "jobs": []}
    with tempfile.TemporaryDirectory() as store:
        for n, overrides in enumerate(jobs(name)):
            cfg = compose_job(
                [
                    *overrides,
                    f"train.steps={steps}",
                    f"train.device={device}",
                    "train.progress=false",
                    f"results_dir={store}/{n}",
                ]
            )
            full_steps = config.parse(compose_job(overrides)).train.steps
            start = time.perf_counter()
            rows = run(cfg)
            wall = time.perf_counter() - start
            trained = rows[rows["status"].isin(["ok", "diverged"])]
            train_s = float(trained["train_time_s"].sum())
            out["jobs"].append(
                {
                    "overrides": overrides[1:],
                    "models": len(trained),
                    "wall_s": wall,
                    "train_s": train_s,
                    "full_steps": full_steps,
                    "full_wall_s": wall + train_s * (full_steps / steps - 1),
                    "device_name": rows["device_name"].iloc[0] if len(rows) else None,
                }
            )
            print(
                f"  {' '.join(overrides[1:]) or name}: {len(trained)} models, "
                f"{wall:.1f} s at {steps} steps -> {out['jobs'][-1]['full_wall_s']:.0f} s "
                f"at {full_steps}",
                flush=True,
            )
    out["full_wall_s"] = sum(j["full_wall_s"] for j in out["jobs"])
    out["probe_wall_s"] = sum(j["wall_s"] for j in out["jobs"])
    print(
        f"{name}: {sum(j['models'] for j in out['jobs'])} models; "
        f"probe {out['probe_wall_s']:.0f} s; "
        f"full size estimated {out['full_wall_s'] / 3600:.2f} h on {device}",
        flush=True,
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    with_full = sorted(
        p.stem[: -len("_full")] for p in (conf_dir() / "experiment").glob("*_full.yaml")
    )
    parser.add_argument(
        "experiment", choices=with_full, help="a literature experiment with a _full config"
    )
    parser.add_argument(
        "store", nargs="?", type=Path, help="its CPU-size results (default results/EXPERIMENT)"
    )
    parser.add_argument(
        "--probe",
        type=int,
        metavar="STEPS",
        help="measure by running the full sweep at STEPS steps",
    )
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    parser.add_argument("--json", type=Path, help="with --probe: also write the measurements here")
    args = parser.parse_args()
    try:
        if args.probe is None:
            from_cpu_rate(args.experiment, args.store or Path("results") / args.experiment)
            return
        measured = probe(args.experiment, args.probe, args.device)
    except DepthbenchError as exc:  # a missing store, no CUDA device, ...: named, no traceback
        parser.exit(2, f"error: {exc}\n")
    if args.json:
        args.json.write_text(json.dumps(measured, indent=1))


if __name__ == "__main__":
    main()
