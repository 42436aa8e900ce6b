"""depthbench against the usual per-model loop on the standard grid, the machine's
matmul rate, and the whole grid through ``depthbench run``.

Run: ``pytest benchmarks/test_standard_grid.py --benchmark-json=.benchmarks/latest.json``
then ``python benchmarks/make_report.py`` writes ``reports/performance.md``; with
``--bench-device cuda`` the same cases run on the GPU (and depthbench is timed with
and without CUDA graphs), for the report's GPU section.
Rates are model x steps per second of the training loops, measured with STEPS
steps (a step costs the same throughout a run); the peer trains one model per
cell of the grid (the same mix of sizes), depthbench each cell's 9 members as one
group. Compare numbers of one run only: the machines are shared and noisy.
"""

import json
import re
import subprocess
import sys
import time

import torch

import standard as S
from depthbench import models, results
from depthbench.trainer import Member, train_group

STEPS = {"cpu": 100, "cuda": 500}  # a GPU step is short: more steps amortise graph capture
E2E_STEPS = 200


def _ours(data, depth, width, steps, cuda_graph=True):
    members = [Member(seed, lr, S.N_TRAIN) for seed in range(S.SEEDS) for lr in S.LRS]
    model = models.build(
        "mlp",
        input_shape=(1, S.N_INPUTS),
        output_dim=1,
        depth=depth,
        width=width,
        members=len(members),
        activation=S.ACTIVATION,
    )
    model.to(data.x_train.device).reset_parameters(list(range(len(members))))
    result = train_group(model, data, members, steps, S.BATCH, cuda_graph=cuda_graph)
    return result.train_time_s, len(members)


def _measure(device):
    data = S.data(device)
    steps = STEPS[device.type]
    _ours(data, 2, 16, 10)  # first use of the device (CUDA context, library handles) untimed
    S.peer_train(data, 2, 16, 0.003, 0, 10)
    rows = []
    for depth, width in S.shapes():
        ours_s, members = _ours(data, depth, width, steps)
        _, peer_s = S.peer_train(data, depth, width, 0.003, 0, steps)
        flops = 3 * S.BATCH * S.matmul_flops_per_sample(depth, width) * steps  # fwd + bwd
        row = {
            "depth": depth,
            "width": width,
            "members": members,
            "ours_s": ours_s,
            "peer_s": peer_s,
            "ours_flops": members * flops / ours_s,
            "peer_flops": flops / peer_s,
        }
        if device.type == "cuda":  # what the CUDA graph is worth: the same group, launched eagerly
            row["ours_eager_s"] = _ours(data, depth, width, steps, cuda_graph=False)[0]
        rows.append(row)
    return rows


def test_standard_grid_against_the_peer(benchmark, device):
    rate_before = S.matmul_rate(device)
    rows = benchmark.pedantic(_measure, args=(device,), rounds=1, iterations=1)
    rate = max(rate_before, S.matmul_rate(device))
    activation = S.activation_seconds(device)
    steps = STEPS[device.type]
    ours = sum(r["members"] for r in rows) * steps / sum(r["ours_s"] for r in rows)
    peer = len(rows) * steps / sum(r["peer_s"] for r in rows)
    benchmark.extra_info.update(
        {
            "steps": steps,
            "cells": rows,
            "matmul_flops": rate,
            "matmul_size": S.matmul_size(device),
            "activation_s_per_element": activation,
            "ours_model_steps_per_s": ours,
            "peer_model_steps_per_s": peer,
            "ratio": ours / peer,
            "threads": torch.get_num_threads(),
            "device": str(device),
            "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else None,
        }
    )
    assert ours > 0 and peer > 0


# `depthbench run` in a child process that reports its own peak RSS on exit. Linux's
# VmHWM belongs to the address space exec made; ru_maxrss would carry over the
# high-water mark of this (parent) process, which the generator benchmarks raise.
RUNNER = (
    "import json, re, sys\n"
    "from depthbench.cli import main\n"
    "code = main(json.loads(sys.argv[1]))\n"
    "status = open('/proc/self/status').read()\n"
    "print('MAXRSS_KB', re.search(r'VmHWM:\\s+(\\d+) kB', status)[1])\n"
    "sys.exit(code)\n"
)


def test_whole_grid_through_depthbench_run(benchmark, tmp_path, device):
    args = [
        "run",
        *S.OVERRIDES,
        f"train.device={device.type}",
        f"train.steps={E2E_STEPS}",
        f"results_dir={tmp_path / 'results'}",
    ]

    def run():
        start = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c", RUNNER, json.dumps(args)],
            cwd=tmp_path,
            check=True,
            capture_output=True,
            text=True,
        )
        return time.perf_counter() - start, int(re.search(r"MAXRSS_KB (\d+)", proc.stdout)[1])

    wall, rss_kb = benchmark.pedantic(run, rounds=1, iterations=1)
    rows = results.load(tmp_path / "results")
    trained = rows[rows["status"] == "ok"]
    benchmark.extra_info.update(
        {
            "steps": E2E_STEPS,
            "wall_s": wall,
            "models": len(trained),
            "train_s": float(trained["train_time_s"].sum()),
            "eval_s": float(trained["eval_time_s"].sum()),
            "peak_rss_gb": rss_kb / 2**20,
        }
    )
    assert len(trained) == 38 * 9
