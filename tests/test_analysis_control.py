"""The analysis control (issue 26): rows synthesised from the constructions' exact
neuron counts, run through the same analysis, recover the theorems' ratios.

Each depth's test_metric falls as a power of its hidden neurons and crosses eps
exactly at the construction's neuron count (the task's ``theory``: Lin-Tegmark's
2^n against 4(n-1) for the product, Telgarsky's 2^k - 1 against 2k for the sawtooth,
d + 1 against 7 ceil(log2 d) for the power), on the widths a real budget grid
solves. What the analysis reads back, N_1(eps) / N_d(eps), must be the theorem's
ratio: exactly without noise, within :data:`TOLERANCE` with log-normal noise over
seven replicates.
"""

import json
import math

import numpy as np
import pandas as pd
import pytest

from depthbench import analysis, models, tasks
from depthbench.schema import DEEP_NEURONS, SHALLOW_NEURONS

EPS = 0.01  # the declared threshold (absolute test_metric)
SLOPE = 2.0  # test_metric = EPS * (n_hidden / N*)^-SLOPE
NOISE = 0.1  # log-normal sigma of each replicate's test_metric
SEEDS = 7
DEEP = 3
#: a median of 7 replicates of log-normal(0.1) values, read through SLOPE = 2: the
#: crossing's relative standard error is about 0.1 / 2 * 1.25 / sqrt(7) = 2.4% per
#: depth, so 10% is four standard errors of the ratio
TOLERANCE = 0.10

CASES = [
    ("product", {"n": 4, "low": -1.0, "high": 1.0}),
    ("product", {"n": 6, "low": -1.0, "high": 1.0}),
    ("sawtooth", {"k": 5, "mode": "regression"}),
    ("power", {"d": 8, "low": -1.0, "high": 1.0}),
]


def _rows(family: str, params: dict, noise: float, draw: int) -> tuple[pd.DataFrame, float]:
    """Rows of depth 1 and :data:`DEEP` over a budget grid whose widths span a factor
    of 4 either side of each depth's construction count; and the theorem's ratio."""
    task = tasks.make(family, **params)
    theory = task.theory()
    star = {1: theory[SHALLOW_NEURONS], DEEP: theory[DEEP_NEURONS]}
    rng = np.random.default_rng(draw)
    rows = []
    for depth, neurons in star.items():
        for budget in np.geomspace(1, 10**5, 61).round().astype(int):
            fit = models.fit("mlp", task.input_shape, task.output_dim, depth, int(budget))
            if not fit.feasible or not neurons / 4 <= fit.n_hidden <= 4 * neurons:
                continue
            for seed in range(SEEDS):
                value = EPS * (fit.n_hidden / neurons) ** -SLOPE
                value *= math.exp(noise * rng.standard_normal())
                rows.append(
                    {
                        "task": family,
                        **{f"task.{k}": v for k, v in params.items()},
                        "model": "mlp",
                        "depth": depth,
                        "width": fit.width,
                        "budget": int(budget),
                        "n_params": fit.n_params,
                        "n_hidden": fit.n_hidden,
                        "forward_flops": float(fit.forward_flops),
                        "n_train": 0,
                        "seed": seed,
                        "lr": 0.01,
                        "test_metric": value,
                        "val_metric": value,
                        "train_loss": value,
                        "status": "ok",
                        "converged": True,
                        "chance": 1.0,
                        "data_seed": 0,
                        "eps": json.dumps([EPS]),
                        "eps_scale": "absolute",
                        "bayes_metric": float("nan"),
                        "train_time_s": 1.0,
                        **{f"theory.{k}": v for k, v in theory.items()},
                    }
                )
    frame = pd.DataFrame(rows).drop_duplicates(["depth", "n_params", "seed"])
    return analysis.label(frame), star[1] / star[DEEP]


def _recovered(df: pd.DataFrame) -> float:
    row = analysis.analyze(df).e_neurons.set_index(["depth", "eps"]).loc[(DEEP, EPS)]
    assert row["censor"] == "", "the grid must bracket both crossings"
    return float(row["value"])


@pytest.mark.parametrize("family,params", CASES)
def test_noiseless_rows_give_the_theorems_neuron_ratio_exactly(family, params):
    df, ratio = _rows(family, params, noise=0.0, draw=0)
    assert _recovered(df) == pytest.approx(ratio, rel=1e-9)


@pytest.mark.parametrize("family,params", CASES)
def test_noisy_replicates_recover_the_theorems_ratio_within_tolerance(family, params):
    df, ratio = _rows(family, params, noise=NOISE, draw=1)
    assert _recovered(df) == pytest.approx(ratio, rel=TOLERANCE)
