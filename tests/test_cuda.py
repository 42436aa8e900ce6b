"""The trainer on CUDA: CUDA graphs change no number, groups still equal one-member
runs, the numbers and draws agree with the CPU's, and the step loop never waits for the GPU.

These run only where a CUDA device is visible (CI has none: they are skipped there);
see docs/testing.md for the command and the last GPU run.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from depthbench import models, results, tasks
from depthbench.run import run
from depthbench.trainer import Data, Member, train_group

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")

MEMBERS = [Member(0, 0.01, 512), Member(1, 0.003, 512), Member(2, 0.03, 256), Member(0, 0.001, 128)]


def _data(task: str, device: str, **params: object) -> tuple[Data, tasks.Task]:
    t = tasks.make(task, **params)
    return Data.from_draws(t.kind, *t.split(512, 128, 256, 0)).to(torch.device(device)), t


def _train(
    drawn: tuple[Data, tasks.Task],
    members: list[Member],
    model: str = "mlp",
    graph: bool = True,
    steps: int = 100,
    on_steps=lambda n: None,
):
    data, task = drawn
    net = models.build(
        model,
        input_shape=task.input_shape,
        output_dim=task.output_dim,
        members=len(members),
        depth=2,
        width=16,
    ).to(data.x_train.device)
    net.reset_parameters([100 + m.seed for m in members])
    result = train_group(net, data, members, steps, 32, on_steps=on_steps, cuda_graph=graph)
    return net, result


def _same(a, b) -> None:
    for field in ("train_loss", "test_loss", "test_metric", "steps", "diverged"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field), err_msg=field)


@pytest.mark.parametrize(
    "task, params, model",
    [
        ("product", {"n": 4}, "mlp"),
        ("rhm", {"v": 8, "n_c": 4, "m": 8, "s": 2, "L": 2}, "tree"),  # classification, tree-shaped
    ],
)
def test_cuda_graph_gives_the_eager_numbers_bit_for_bit(task, params, model):
    data = _data(task, "cuda", **params)
    graph_net, graph = _train(data, MEMBERS, model, graph=True)
    eager_net, eager = _train(data, MEMBERS, model, graph=False)
    _same(graph, eager)
    for g, e in zip(graph_net.parameters(), eager_net.parameters()):
        torch.testing.assert_close(g, e, rtol=0, atol=0)


def test_group_equals_one_member_runs_on_cuda():
    data = _data("product", "cuda", n=3)
    group_net, group = _train(data, MEMBERS)
    for k, member in enumerate(MEMBERS):
        solo_net, solo = _train(data, [member])
        for g, s in zip(group_net.parameters(), solo_net.parameters()):
            torch.testing.assert_close(g[k], s[0], rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(group.test_metric[k], solo.test_metric[0], rtol=1e-5)


def test_cuda_matches_the_cpu():
    """The same draws (made on the CPU), minibatches and initialisation: the devices
    differ by float32 rounding only."""
    data, task = _data("product", "cpu", n=4)
    on_gpu = data.to(torch.device("cuda"))
    _, cpu = _train((data, task), MEMBERS)
    _, gpu = _train((on_gpu, task), MEMBERS)
    np.testing.assert_allclose(gpu.test_metric, cpu.test_metric, rtol=1e-3)
    np.testing.assert_array_equal(gpu.steps, cpu.steps)


def test_a_diverging_member_is_caught_inside_the_graph():
    data = _data("product", "cuda", n=2)
    _, result = _train(data, [Member(0, 0.01, 512), Member(1, 1e30, 512)])
    assert result.diverged.tolist() == [False, True]
    assert result.steps[0] == 100 and result.steps[1] < 100


@pytest.mark.parametrize("graph", [True, False])
def test_the_step_loop_never_waits_for_the_gpu(graph):
    """``torch.cuda.set_sync_debug_mode`` warns at every host synchronisation. Setting
    up a group may synchronise (copying the learning rates, capturing the graph), all
    within the first block of 64 steps; the blocks after it, which copy their indices
    in, may add none."""
    data, task = _data("product", "cuda", n=4)
    net = models.build(
        "mlp", input_shape=task.input_shape, output_dim=1, members=len(MEMBERS), depth=2, width=16
    ).cuda()
    net.reset_parameters([100 + m.seed for m in MEMBERS])
    seen: list[int] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.cuda.set_sync_debug_mode("warn")
        try:
            train_group(
                net,
                data,
                MEMBERS,
                190,
                32,
                cuda_graph=graph,
                on_steps=lambda n: seen.append(sum("synchron" in str(w.message) for w in caught)),
            )
        finally:
            torch.cuda.set_sync_debug_mode("default")
    assert len(seen) == 3 and seen[0] == seen[-1], seen


def test_run_on_cuda_with_and_without_graphs_stores_the_same_numbers(make_cfg, tmp_path):
    frames = {}
    for graph in ("true", "false"):
        cfg = make_cfg(
            "train.device=cuda", f"train.cuda_graph={graph}", f"results_dir={tmp_path / graph}"
        )
        run(cfg)
        frames[graph] = results.load(tmp_path / graph).sort_values("run_id").reset_index(drop=True)
    a, b = frames["true"], frames["false"]
    assert (a["device"] == "cuda:0").all() and len(a) == 8
    assert a["device_name"].iloc[0] == torch.cuda.get_device_name(0)
    assert a["run_id"].tolist() == b["run_id"].tolist()
    np.testing.assert_array_equal(a["test_metric"], b["test_metric"])


def test_a_config_stores_the_same_run_ids_and_numbers_on_the_cpu_and_on_cuda(make_cfg, tmp_path):
    """Draws are made on the CPU and moved, so one run_id means one data set on every
    device; the trained numbers then differ by float32 rounding only."""
    frames = {}
    for device in ("cpu", "cuda"):
        cfg = make_cfg(
            "task.n=3",
            "train.steps=200",
            f"train.device={device}",
            f"results_dir={tmp_path / device}",
        )
        run(cfg)
        frames[device] = (
            results.load(tmp_path / device).sort_values("run_id").reset_index(drop=True)
        )
    cpu, gpu = frames["cpu"], frames["cuda"]
    assert cpu["run_id"].tolist() == gpu["run_id"].tolist()
    for column in ("test_metric", "val_metric"):
        np.testing.assert_allclose(gpu[column], cpu[column], rtol=1e-3, err_msg=column)
