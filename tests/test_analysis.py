"""depthbench.analysis on synthetic frames whose answers are known."""

import math

import numpy as np
import pandas as pd
import pytest

from depthbench import analysis
from depthbench.analysis.efficiency import crossing, ratio
from depthbench.analysis.scaling import power_law


def frame(curves: dict[int, tuple[float, float]], budgets, seeds=8, noise=0.0, draw=0,
          lrs=(0.01,), n_train=(1000,), chance=1.0, size=None) -> pd.DataFrame:
    """Result rows where depth d has test_metric c_d * n_params^(-a_d) times
    log-normal noise (median 1) per seed; extra learning rates only do worse."""
    rng = np.random.default_rng(draw)
    rows = []
    for depth, (c, a) in curves.items():
        for budget in budgets:
            for n in n_train:
                scale = (1000 / n) if len(n_train) > 1 else 1.0
                for seed in range(seeds):
                    value = c * budget ** (-a) * scale * math.exp(noise * rng.standard_normal())
                    for k, lr in enumerate(lrs):
                        rows.append({
                            "task": "synthetic", "task.n": size if size is not None else 4,
                            "model": "mlp", "model.activation": "silu", "depth": depth,
                            "width": budget // (10 * depth), "budget": budget, "n_params": budget,
                            "n_hidden": budget // 10, "n_train": n, "seed": seed, "lr": lr,
                            "test_metric": value * (1 + k), "status": "ok", "chance": chance,
                            "bayes_metric": float("nan"), "train_time_s": 1.0,
                            "theory.shallow_neurons": 16.0, "theory.deep_neurons": 12.0,
                        })
    return analysis.label(pd.DataFrame(rows))


def truth(c: float, a: float, eps: float) -> float:
    """P(eps) of the curve c p^-a."""
    return (c / eps) ** (1 / a)


BUDGETS = [100, 300, 1000, 3000, 10000]


def test_crossing_interpolates_log_log_and_censors_at_both_ends():
    x = np.array([100.0, 1000.0, 10000.0])
    y = 5.0 * x ** -0.5  # 0.5, 0.158, 0.05
    value, censor = crossing(x, y, 0.1)
    assert censor == "" and value == pytest.approx(truth(5.0, 0.5, 0.1))
    assert crossing(x, y, 0.01) == (10000.0, ">")
    assert crossing(x, y, 0.9) == (100.0, "<=")
    assert crossing(x, np.array([np.nan, 0.2, 0.05]), 0.1)[1] == ""  # a missing cell is skipped
    assert math.isnan(crossing(x, np.full(3, np.nan), 0.1)[0])


def test_first_crossing_counts_on_a_non_monotone_curve():
    x = np.array([10.0, 100.0, 1000.0, 10000.0])
    value, censor = crossing(x, np.array([0.5, 0.05, 0.5, 0.01]), 0.1)
    assert censor == "" and 10 < value < 100


@pytest.mark.parametrize("shallow,deep,expected", [
    ((1000.0, ""), (100.0, ""), (10.0, "")),
    ((1000.0, ">"), (100.0, ""), (10.0, ">=")),
    ((1000.0, ""), (100.0, "<="), (10.0, ">=")),
    ((1000.0, ">"), (100.0, "<="), (10.0, ">=")),
    ((1000.0, ""), (3000.0, ">"), (1 / 3, "<=")),
    ((100.0, "<="), (50.0, ""), (2.0, "<=")),
])
def test_censored_sizes_give_bounds_on_the_ratio(shallow, deep, expected):
    value, censor = ratio(shallow, deep)
    assert censor == expected[1] and value == pytest.approx(expected[0])


@pytest.mark.parametrize("shallow,deep", [((1000.0, ">"), (3000.0, ">")), ((100.0, "<="), (100.0, "<="))])
def test_ratio_of_two_censored_sizes_in_the_same_direction_is_undetermined(shallow, deep):
    value, censor = ratio(shallow, deep)
    assert censor == "undetermined" and math.isnan(value)


def test_p_d_and_e_d_recover_planted_power_laws():
    curves = {1: (20.0, 0.5), 2: (60.0, 1.0)}
    a = analysis.analyze(frame(curves, BUDGETS, lrs=(0.01, 0.1)), eps=[0.5, 0.2, 0.02], reps=200)
    p = a.p.set_index(["depth", "eps"])
    for depth, (c, alpha) in curves.items():
        assert p.loc[(depth, 0.5), "value"] == pytest.approx(truth(c, alpha, 0.5))
    assert p.loc[(1, 0.02), "censor"] == ">" and p.loc[(1, 0.02), "value"] == 10000
    e = a.e.set_index("eps")
    assert e.loc[0.5, "value"] == pytest.approx(truth(20, 0.5, 0.5) / truth(60, 1.0, 0.5))
    assert e.loc[0.02, "censor"] == ">=" and e.loc[0.02, "value"] == pytest.approx(10000 / truth(60, 1.0, 0.02))
    # N_d uses hidden neurons (budget / 10 here): the same crossing on another axis
    n = a.n.set_index(["depth", "eps"])
    assert n.loc[(2, 0.5), "value"] == pytest.approx(truth(60, 1.0, 0.5) / 10)


def test_default_eps_are_fractions_of_chance():
    a = analysis.analyze(frame({1: (20.0, 0.5)}, BUDGETS, chance=0.5), reps=20)
    assert a.eps == {a.instances.index[0]: [0.25, 0.1, 0.05]}


def test_cells_count_members_and_tune_the_learning_rate():
    df = frame({1: (20.0, 0.5)}, BUDGETS, seeds=3, noise=0.3, lrs=(0.01, 0.1))
    df.loc[0, "status"], df.loc[0, "test_metric"] = "diverged", float("nan")
    cells = analysis.analyze(df, reps=50).cells.set_index("budget")
    assert cells.loc[100, ["ok", "diverged"]].tolist() == [5, 1]
    assert cells.loc[300, "ok"] == 6
    best_per_seed = df[(df["budget"] == 300)].groupby("seed")["test_metric"].min()
    assert cells.loc[300, "tuned"] == pytest.approx(best_per_seed.median())
    assert cells.loc[300, "tuned_lo"] <= cells.loc[300, "tuned"] <= cells.loc[300, "tuned_hi"]
    assert cells.loc[300, "mean_lo"] <= cells.loc[300, "mean"] <= cells.loc[300, "mean_hi"]


def test_the_same_rows_give_the_same_intervals():
    df = frame({1: (20.0, 0.5), 2: (60.0, 1.0)}, BUDGETS, noise=0.3)
    a, b = analysis.analyze(df, reps=100), analysis.analyze(df.sample(frac=1, random_state=1), reps=100)
    cols = ["panel", "depth", "eps", "value", "lo", "hi"]
    pd.testing.assert_frame_equal(a.e[cols], b.e[cols])


def test_e_d_interval_covers_the_truth_in_most_repeated_draws():
    curves = {1: (20.0, 0.5), 2: (60.0, 1.0)}
    eps = 0.3
    expected = truth(20, 0.5, eps) / truth(60, 1.0, eps)
    covered = []
    for draw in range(30):
        a = analysis.analyze(frame(curves, BUDGETS, seeds=10, noise=0.25, draw=draw), eps=[eps], reps=300)
        row = a.e.iloc[0]
        assert row["censor"] == ""
        covered.append(row["lo"] <= expected <= row["hi"])
    assert np.mean(covered) >= 0.8, np.mean(covered)


def test_scaling_fit_recovers_a_planted_exponent():
    assert power_law(np.array([1e2, 1e3, 1e4]), 3.0 * np.array([1e2, 1e3, 1e4]) ** -0.7) == pytest.approx((0.7, 3.0))
    a = analysis.analyze(frame({2: (60.0, 0.7)}, BUDGETS, noise=0.2, draw=3), reps=200)
    fit = a.fits.iloc[0]
    assert fit["lo"] <= 0.7 <= fit["hi"] and abs(fit["alpha"] - 0.7) < 0.1
    assert fit["points"] == len(BUDGETS)


def test_sample_complexity_interpolates_over_n_train():
    # test_metric = 1000 / n_train at budget 100 (c = 10, a = 0.5): learned (<= 0.1) at n = 10^4
    df = frame({1: (10.0, 0.5)}, [100], n_train=(1000, 3000, 30000))
    s = analysis.analyze(df, reps=50).samples.iloc[0]
    assert s["censor"] == "" and s["value"] == pytest.approx(10000) and s["eps"] == pytest.approx(0.1)


def test_labels_name_the_instance_and_the_panel():
    df = frame({1: (20.0, 0.5)}, [100], n_train=(500, 1000))
    assert set(df["instance"]) == {"synthetic n=4 · mlp activation=silu"}
    assert set(df["panel"]) == {"synthetic n=4 · mlp activation=silu · n_train=500",
                                "synthetic n=4 · mlp activation=silu · n_train=1000"}
