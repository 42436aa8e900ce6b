"""The Bayes error a job stores (``bayes_metric``, the floor of the ``bayes`` eps scale)
comes from a draw of its own, not from the test draw its threshold is compared with."""

import math

from depthbench import tasks
from depthbench.run import run

BROADCAST = ["task=broadcast", "task.s=2", "task.L=6", "task.eps=0.1", "task.q=2"]
ONE_RUN = ["grid.depths=[1]", "grid.budgets=[300]", "grid.seeds=1", "train.steps=1"]


def test_bayes_error_ignores_the_data_seed_and_estimates_the_bayes_error(make_cfg, tmp_path):
    stored = {
        seed: run(
            make_cfg(
                *BROADCAST, *ONE_RUN, f"data_seed={seed}", f"results_dir={tmp_path / str(seed)}"
            )
        )
        for seed in (1, 2)
    }
    bayes = {seed: set(rows["bayes_metric"]) for seed, rows in stored.items()}
    assert len(bayes[1]) == 1 and bayes[1] == bayes[2]  # the test draws differ, it does not
    (value,) = bayes[1]

    task = tasks.make("broadcast", s=2, L=6, eps=0.1, q=2)
    # E[P(correct | x)] on 65536 trees of its own: its SD and that of a 65536-sample
    # error rate are below 0.0015 each, so 0.01 is over 4.5 SD of their difference
    assert abs(value - (1 - task.bayes_accuracy)) < 0.01
    for seed in (1, 2):  # and close to the Bayes error on each test draw (512 samples)
        _, _, (x, y) = task.split(512, 512, 512, seed)
        on_test = task.bayes_metric(x, y)
        assert abs(value - on_test) < 4 * math.sqrt(value * (1 - value) / 512)
