"""Trainer throughput: how much one batched group gains over one-member groups.

Run: ``pytest benchmarks/ --benchmark-json=.benchmarks/latest.json``. Each case
records ``model_steps_per_s`` (members x steps / median seconds) in extra_info;
compare the cases of one run, not across runs (machines are shared and noisy).
"""

import pytest

from depthbench import tasks
from depthbench.models import MLP
from depthbench.trainer import Data, Member, train_group

STEPS = 200


@pytest.fixture(scope="module")
def data(device):
    task = tasks.make("product", n=6)
    return Data.from_draws(
        task.kind,
        task.sample(4096, 0, device),
        task.sample(1024, 2, device),
        task.sample(1024, 1, device),
    )


@pytest.mark.parametrize("members", [1, 4, 16])
def test_group_throughput(benchmark, data, members):
    group = [Member(seed, 0.003, 4096) for seed in range(members)]

    def train():
        model = MLP((1, 6), 1, depth=2, width=32, members=members).to(data.x_train.device)
        model.reset_parameters(list(range(members)))
        return train_group(model, data, group, steps=STEPS, batch_size=256)

    result = benchmark.pedantic(train, rounds=3, warmup_rounds=1)
    assert not result.diverged.any()
    benchmark.extra_info["model_steps_per_s"] = members * STEPS / benchmark.stats["median"]
