"""depthbench.analysis on synthetic frames whose answers are known."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from depthbench import analysis
from depthbench.analysis.censoring import censored_median
from depthbench.analysis.efficiency import crossing, ratio
from depthbench.analysis.scaling import power_law


def frame(
    curves: dict[int, tuple[float, float]],
    budgets,
    seeds=8,
    noise=0.0,
    draw=0,
    lrs=(0.01,),
    n_train=(1000,),
    chance=1.0,
    size=None,
    eps=(0.5, 0.2, 0.1),
    eps_scale="chance",
) -> pd.DataFrame:
    """Result rows where depth d has test_metric c_d * n_params^(-a_d) times
    log-normal noise (median 1) per seed; extra learning rates only do worse. The
    validation metric equals the test metric; every member converged."""
    rng = np.random.default_rng(draw)
    rows = []
    for depth, (c, a) in curves.items():
        for budget in budgets:
            for n in n_train:
                scale = (1000 / n) if len(n_train) > 1 else 1.0
                for seed in range(seeds):
                    value = c * budget ** (-a) * scale * math.exp(noise * rng.standard_normal())
                    for k, lr in enumerate(lrs):
                        rows.append(
                            {
                                "task": "synthetic",
                                "task.n": size if size is not None else 4,
                                "model": "mlp",
                                "model.activation": "silu",
                                "depth": depth,
                                "width": budget // (10 * depth),
                                "budget": budget,
                                "n_params": budget,
                                "n_hidden": budget // 10,
                                "forward_flops": 2.0 * budget,
                                "n_train": n,
                                "seed": seed,
                                "lr": lr,
                                "test_metric": value * (1 + k),
                                "val_metric": value * (1 + k),
                                "status": "ok",
                                "chance": chance,
                                "data_seed": 0,
                                "train_loss": value * (1 + k),
                                "converged": True,
                                "eps": json.dumps(list(eps)),
                                "eps_scale": eps_scale,
                                "bayes_metric": float("nan"),
                                "train_time_s": 1.0,
                                "theory.shallow_neurons": 16.0,
                                "theory.deep_neurons": 12.0,
                            }
                        )
    return analysis.label(pd.DataFrame(rows))


def truth(c: float, a: float, eps: float) -> float:
    """P(eps) of the curve c p^-a."""
    return (c / eps) ** (1 / a)


BUDGETS = [100, 300, 1000, 3000, 10000]


def test_crossing_interpolates_log_log_and_censors_at_both_ends():
    x = np.array([100.0, 1000.0, 10000.0])
    y = 5.0 * x**-0.5  # 0.5, 0.158, 0.05
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


@pytest.mark.parametrize(
    "shallow,deep,expected",
    [
        ((1000.0, ""), (100.0, ""), (10.0, "")),
        ((1000.0, ">"), (100.0, ""), (10.0, ">=")),
        ((1000.0, ""), (100.0, "<="), (10.0, ">=")),
        ((1000.0, ">"), (100.0, "<="), (10.0, ">=")),
        ((1000.0, ""), (3000.0, ">"), (1 / 3, "<=")),
        ((100.0, "<="), (50.0, ""), (2.0, "<=")),
    ],
)
def test_censored_sizes_give_bounds_on_the_ratio(shallow, deep, expected):
    value, censor = ratio(shallow, deep)
    assert censor == expected[1] and value == pytest.approx(expected[0])


@pytest.mark.parametrize(
    "shallow,deep", [((1000.0, ">"), (3000.0, ">")), ((100.0, "<="), (100.0, "<="))]
)
def test_ratio_of_two_censored_sizes_in_the_same_direction_is_undetermined(shallow, deep):
    value, censor = ratio(shallow, deep)
    assert censor == "undetermined" and math.isnan(value)


def test_p_d_and_e_d_recover_planted_power_laws():
    curves = {1: (20.0, 0.5), 2: (60.0, 1.0)}
    a = analysis.analyze(frame(curves, BUDGETS, lrs=(0.01, 0.1)), eps=[0.5, 0.2, 0.02])
    p = a.p.set_index(["depth", "eps"])
    for depth, (c, alpha) in curves.items():
        assert p.loc[(depth, 0.5), "value"] == pytest.approx(truth(c, alpha, 0.5))
    assert p.loc[(1, 0.02), "censor"] == ">" and p.loc[(1, 0.02), "value"] == 10000
    e = a.e.set_index("eps")
    assert e.loc[0.5, "value"] == pytest.approx(truth(20, 0.5, 0.5) / truth(60, 1.0, 0.5))
    assert e.loc[0.02, "censor"] == ">=" and e.loc[0.02, "value"] == pytest.approx(
        10000 / truth(60, 1.0, 0.02)
    )
    # N_d uses hidden neurons (budget / 10 here): the same crossing on another axis
    n = a.n.set_index(["depth", "eps"])
    assert n.loc[(2, 0.5), "value"] == pytest.approx(truth(60, 1.0, 0.5) / 10)


@pytest.mark.parametrize(
    "scale,bayes,expected",
    [
        ("chance", float("nan"), [0.25, 0.1, 0.05]),
        ("absolute", float("nan"), [0.5, 0.2, 0.1]),
        ("bayes", 0.1, [0.1 + 0.5 * 0.4, 0.1 + 0.2 * 0.4, 0.1 + 0.1 * 0.4]),
    ],
)
def test_eps_come_from_the_rows_on_their_declared_scale(scale, bayes, expected):
    df = frame({1: (20.0, 0.5)}, BUDGETS, chance=0.5, eps_scale=scale).assign(bayes_metric=bayes)
    a = analysis.analyze(df)
    assert a.eps[a.instances.index[0]] == pytest.approx(expected)
    assert "declared in the experiment config" in a.eps_source
    assert analysis.analyze(df, eps=[0.3]).eps[a.instances.index[0]] == [0.3]


def test_the_learning_rate_is_chosen_on_validation_not_on_test():
    df = frame({1: (20.0, 0.5)}, [300], seeds=3, lrs=(0.01, 0.1))
    fast = df["lr"] == 0.1  # best on test, worst on validation
    df.loc[fast, "test_metric"] = df.loc[~fast, "test_metric"].to_numpy() / 10
    df.loc[fast, "val_metric"] = df.loc[~fast, "val_metric"].to_numpy() * 10
    cell = analysis.analyze(df).cells.iloc[0]
    slow = df[~fast]
    assert cell["lr"] == 0.01 and cell["lr_edge"] == "low"
    assert cell["tuned"] == pytest.approx(slow["test_metric"].median())
    assert cell["val"] == pytest.approx(slow["val_metric"].mean())
    assert cell["oracle"] == pytest.approx(df[fast]["test_metric"].median())  # labelled, unused


def test_cells_count_members_and_a_diverged_member_counts_at_chance():
    df = frame({1: (20.0, 0.5)}, BUDGETS, seeds=3, noise=0.3, lrs=(0.01, 0.1))
    first = df.index[(df["budget"] == 100) & (df["lr"] == 0.01)][0]
    df.loc[first, ["status", "test_metric", "val_metric"]] = [
        "diverged",
        float("nan"),
        float("nan"),
    ]
    cells = analysis.analyze(df).cells.set_index("budget")
    assert cells.loc[100, ["ok", "diverged"]].tolist() == [5, 1]
    assert cells.loc[300, "ok"] == 6
    at = df[(df["budget"] == 300) & (df["lr"] == 0.01)]
    assert cells.loc[300, "tuned"] == pytest.approx(at["test_metric"].median())
    assert cells.loc[300, "tuned_lo"] == at["test_metric"].min()  # 3 seeds: the range
    assert cells.loc[300, "tuned_hi"] == at["test_metric"].max()
    assert cells.loc[300, "coverage"] == 0.75
    # the diverged seed counts at chance (1.0) in the validation mean that chooses the rate
    at = df[df["budget"] == 100].assign(val=lambda t: t["val_metric"].fillna(1.0))
    assert cells.loc[100, "val"] == pytest.approx(at.groupby("lr")["val"].mean().min())


def test_flags_name_cells_at_the_grid_edge_or_unconverged_and_no_others():
    middle = frame({1: (20.0, 0.5)}, [300, 1000], seeds=3, lrs=(0.001, 0.01, 0.1))
    middle.loc[middle["lr"] == 0.01, ["val_metric", "test_metric"]] /= 10  # the middle rate wins
    assert analysis.flags(analysis.analyze(middle).cells).empty
    edge = middle.copy()
    edge.loc[edge["lr"] == 0.1, "val_metric"] /= 100  # now the largest rate wins
    edge.loc[(edge["budget"] == 1000) & (edge["lr"] == 0.1) & (edge["seed"] == 0), "converged"] = (
        False
    )
    flagged = analysis.flags(analysis.analyze(edge).cells).set_index("budget")["problem"]
    assert flagged.loc[300] == "lr at high edge (0.1)"
    assert flagged.loc[1000] == "lr at high edge (0.1), 1/3 not converged"


def test_a_curve_that_crosses_and_rises_again_is_read_at_its_first_crossing():
    df = frame({1: (20.0, 0.5)}, BUDGETS, seeds=3)  # 2.0, 1.15, 0.63, 0.37, 0.2
    dip = df["budget"] == 300
    df.loc[dip, ["test_metric", "val_metric"]] = 0.09  # reaches eps = 0.1 at 300, then rises
    row = analysis.analyze(df, eps=[0.1]).p.iloc[0]
    # by the definition: the running minimum first reaches 0.1 between 100 and 300
    assert row["censor"] == "" and 100 < row["value"] < 300
    # the isotonic fit pools the dip away: its robustness column says "never reached"
    assert row["isotonic_censor"] == ">" and row["isotonic"] == 10000


def test_the_same_rows_give_the_same_intervals():
    df = frame({1: (20.0, 0.5), 2: (60.0, 1.0)}, BUDGETS, noise=0.3)
    a, b = analysis.analyze(df), analysis.analyze(df.sample(frac=1, random_state=1))
    cols = ["panel", "depth", "eps", "value", "lo", "hi"]
    pd.testing.assert_frame_equal(a.e[cols], b.e[cols])


def test_e_d_interval_covers_the_truth_in_most_repeated_draws():
    curves = {1: (20.0, 0.5), 2: (60.0, 1.0)}
    eps = 0.3
    expected = truth(20, 0.5, eps) / truth(60, 1.0, eps)
    covered = []
    for draw in range(30):
        a = analysis.analyze(frame(curves, BUDGETS, seeds=10, noise=0.25, draw=draw), eps=[eps])
        row = a.e.iloc[0]
        assert row["censor"] == "" and row["coverage"] >= 0.95
        covered.append(row["lo"] <= expected <= row["hi"])
    assert np.mean(covered) >= 0.9, np.mean(covered)


def test_scaling_fit_recovers_a_planted_exponent():
    assert power_law(
        np.array([1e2, 1e3, 1e4]), 3.0 * np.array([1e2, 1e3, 1e4]) ** -0.7
    ) == pytest.approx((0.7, 3.0))
    a = analysis.analyze(frame({2: (60.0, 0.7)}, BUDGETS, noise=0.2, draw=3))
    fit = a.fits.iloc[0]
    assert fit["lo"] <= 0.7 <= fit["hi"] and abs(fit["alpha"] - 0.7) < 0.1
    assert fit["points"] == len(BUDGETS)


def test_sample_complexity_interpolates_over_n_train():
    # test_metric = 1000 / n_train at budget 100 (c = 10, a = 0.5): learned (<= 0.1) at n = 10^4
    df = frame({1: (10.0, 0.5)}, [100], n_train=(1000, 3000, 30000))
    s = analysis.analyze(df).samples.iloc[0]
    assert (
        s["censor"] == "" and s["value"] == pytest.approx(10000) and s["eps"] == pytest.approx(0.1)
    )


def test_function_and_data_seeds_are_replicates_of_one_instance():
    df = frame({1: (20.0, 0.5)}, [100], seeds=2)
    twice = pd.concat([df.assign(**{"task.function_seed": f}) for f in (0, 1)])
    labelled = analysis.label(twice.drop(columns=["instance", "panel"]))
    assert labelled["instance"].nunique() == 1 and labelled["replicate"].nunique() == 4
    assert analysis.analyze(labelled).cells.iloc[0]["replicates"] == 4


def test_panels_sort_by_the_numbers_in_their_labels():
    labels = ["product n=16 · n_train=512", "product n=4 · n_train=512", "product n=4 · n_train=64"]
    assert analysis.ordered(labels) == [labels[2], labels[1], labels[0]]


def test_labels_name_the_instance_and_the_panel():
    df = frame({1: (20.0, 0.5)}, [100], n_train=(500, 1000))
    assert set(df["instance"]) == {"synthetic n=4 · mlp activation=silu"}
    assert set(df["panel"]) == {
        "synthetic n=4 · mlp activation=silu · n_train=500",
        "synthetic n=4 · mlp activation=silu · n_train=1000",
    }


NAN = math.nan


@pytest.mark.parametrize(
    "replicates,expected",
    [
        ([(3.0, ""), (1.0, ""), (2.0, "")], (2.0, "", NAN)),  # exact: the plain median
        ([(1.0, ""), (2.0, ""), (10.0, ">"), (4.0, "")], (3.0, "", NAN)),  # bound beyond the middle
        ([(1.0, ""), (10.0, ">"), (10.0, ">")], (10.0, ">", NAN)),
        ([(1.0, ""), (2.0, ""), (10.0, ">"), (10.0, ">")], (6.0, ">", NAN)),  # >= mean of 2, 10
        ([(1.0, "<="), (1.0, "<="), (5.0, "")], (1.0, "<=", NAN)),
        ([(1.0, "<="), (10.0, ">")], (5.0, ">", NAN)),  # the mean of [0, 1] and [10, inf)
        ([(10.0, ">"), (10.0, ">"), (NAN, "undetermined")], (10.0, ">", NAN)),  # issue 25
        ([(3.0, ""), (5.0, ">"), (NAN, "undetermined")], (3.0, ">=", NAN)),  # [3, inf)
        ([(3.0, ""), (1.0, ">"), (5.0, ">")], (3.0, ">=", NAN)),  # can equal 3: {3, 2, 6}
        ([(1.0, ""), (NAN, "undetermined"), (3.0, "")], (1.0, "in", 3.0)),
        ([(2.0, ">"), (9.0, ""), (8.0, "")], (8.0, "in", 9.0)),
        ([(1.0, "<="), (NAN, "undetermined"), (7.0, ">")], (NAN, "undetermined", NAN)),
        ([], (NAN, "undetermined", NAN)),
    ],
)
def test_the_median_of_censored_replicates_is_the_interval_they_allow(replicates, expected):
    found = censored_median(replicates)
    assert found.censor == expected[1]
    for got, want in ((found.value, expected[0]), (found.value_hi, expected[2])):
        assert (math.isnan(got) and math.isnan(want)) or got == pytest.approx(want)
