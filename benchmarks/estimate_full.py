"""Training FLOPs of an experiment's sweep, and a CPU-time estimate for its ``_full``
size from the measured rate of its CPU-size run.

Usage: ``python benchmarks/estimate_full.py EXPERIMENT [results/EXPERIMENT]``.
The FLOPs count forward and backward matmuls (6 x batch x n_params per step and
model); the rate is the same count over the CPU run's summed training time. Larger
models run nearer the matmul rate than the CPU size's small ones, so the estimate
is an upper bound.
"""

from __future__ import annotations

import sys
from pathlib import Path

from depthbench import config, grid, results, tasks
from depthbench.sweep import compose_job, jobs


def train_flops(experiment: str) -> tuple[float, int]:
    """(training FLOPs, models) of every feasible run of the sweep."""
    total, models = 0.0, 0
    for overrides in jobs(experiment):
        spec = config.parse(compose_job(overrides))
        task = tasks.make(spec.task, **spec.task_params)
        for r in grid.plan(spec, task.input_shape, task.output_dim):
            if r.fit.feasible:
                total += 6.0 * spec.train.batch_size * spec.train.steps * r.fit.n_params
                models += 1
    return total, models


def main(experiment: str, store: Path) -> None:
    rows = results.load(store)
    ok = rows[rows["status"].isin(["ok", "diverged"])]
    done = 6.0 * ok["batch_size"] * ok["steps"].clip(lower=1) * ok["n_params"]
    rate = done.sum() / ok["train_time_s"].sum() if len(ok) else float("nan")
    for name in (experiment, f"{experiment}_full"):
        flops, models = train_flops(name)
        print(f"{name}: {models} models, {flops:.3g} training FLOPs, "
              f"{flops / rate / 3600:.3g} h at this CPU's rate in the {experiment} run "
              f"({rate / 1e9:.2f} GFLOP/s)")


if __name__ == "__main__":
    name = sys.argv[1]
    main(name, Path(sys.argv[2]) if len(sys.argv) > 2 else Path("results") / name)
