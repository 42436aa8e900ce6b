"""Generator throughput: 10^6 samples of every task family on this machine.

Run: ``pytest benchmarks/test_generators.py --benchmark-json=.benchmarks/generators.json``.
Each case stores ``samples_per_s`` in extra_info. The default instance of each
family is used, except rhm, whose default has fewer than 10^6 distinct inputs
(P_max = 131072): the case uses L = 4 (P_max = 8.6e9).
"""

import pytest
import torch

from depthbench import tasks

N = 10**6
INSTANCES = {family: {} for family in tasks.FAMILIES} | {
    "rhm": {"v": 8, "m": 4, "s": 2, "L": 4, "n_c": 8}
}


@pytest.mark.parametrize("family", INSTANCES)
def test_generate_a_million_samples(benchmark, family, device):
    task = tasks.make(family, **INSTANCES[family])

    def sample():
        x, y = task.sample(N, 0, device)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        return x, y

    x, y = benchmark.pedantic(sample, rounds=3, warmup_rounds=1)
    assert x.shape == (N, task.input_dim) and y.shape == (N,)
    benchmark.extra_info["samples_per_s"] = N / benchmark.stats["median"]
    benchmark.extra_info["input_dim"] = task.input_dim
