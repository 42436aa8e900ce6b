"""The best-effort fit: the polish, the refit stage of a job, and how the analysis
reads it (issue 26)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import torch

from depthbench import analysis, results
from depthbench.analysis.fitness import best_effort_curves, fitness
from depthbench.errors import ConfigError
from depthbench.models import MLP
from depthbench.polish import member, polish_group, polish_member
from depthbench.refit import deciding
from depthbench.run import run

# Adam at 20 steps of a small rate stops far short on the product of 2 inputs; L-BFGS
# from its weights fits it (a smooth target, 100 parameters, 512 samples)
SHORT = ("task.n=2", "grid.depths=[1]", "grid.budgets=[100]", "train.steps=20", "grid.lrs=[0.001]")


def _group(members: int) -> MLP:
    torch.manual_seed(0)
    model = MLP((1, 3), 1, depth=2, width=6, members=members, activation="tanh")
    model.reset_parameters(list(range(members)))
    return model


def test_polish_of_a_group_equals_the_polish_of_each_member_alone():
    g = torch.Generator().manual_seed(1)
    draws = [(torch.rand(64, 3, generator=g), torch.randn(64, generator=g)) for _ in range(3)]
    group = _group(3)
    alone = [member(group, k) for k in range(3)]
    polished = polish_group(group, "regression", draws, iterations=50)
    for k, single in enumerate(alone):
        before, after, _ = polish_member(single, "regression", *draws[k], iterations=50)
        assert before == polished.loss_before[k] and after == polished.loss_after[k]
        for mine, theirs in zip(member(group, k).parameters(), single.parameters()):
            torch.testing.assert_close(mine.float(), theirs.float(), rtol=0, atol=0)
    assert (polished.loss_after < 0.9 * polished.loss_before).all()  # it did polish


def test_polish_never_leaves_a_member_worse_than_it_found_it():
    group = _group(1)
    x = torch.rand(32, 3, generator=torch.Generator().manual_seed(2))
    polished = polish_group(group, "regression", [(x, torch.zeros(32))], iterations=30)
    assert polished.loss_after[0] <= polished.loss_before[0]


def test_a_short_adam_run_is_not_fitted_and_the_polished_value_is_reported(make_cfg):
    cfg = make_cfg(*SHORT, "best_effort.cells=all")
    written = run(cfg)
    assert (written["status"] == "refit").sum() == 2 * 2  # 2 seeds x (steps, polish)
    df = analysis.label(results.load(cfg.results_dir))
    fit = fitness(df).iloc[0]
    assert fit["default"] > 0.5  # Adam stopped far short
    assert fit["polish"] < 0.05 * fit["default"]  # L-BFGS reaches the fit
    assert not fit["fitted"] and not fit["polished"]
    assert fit["best"] == fit["polish"] and fit["stage"] == "polish 2"
    c = analysis.curves(df)
    assert best_effort_curves(df, c).points["tuned"].iloc[0] == fit["best"]
    assert c.points["tuned"].iloc[0] == fit["default"]  # the default curve is untouched


def test_only_the_chosen_member_s_refit_counts_and_a_diverged_refit_counts_at_chance(make_cfg):
    cfg = make_cfg(*SHORT, "best_effort.cells=all")
    run(cfg)
    df = analysis.label(results.load(cfg.results_dir))
    refit = df["status"] == "refit"
    assert fitness(df).iloc[0]["refit"] == 2
    # a replicate refit at another rate than the analysis chose is not refit
    other = refit & (df["seed"] == 1)
    moved = df.assign(base_run_id=df["base_run_id"].where(~other, "another member"))
    fit = fitness(moved).iloc[0]
    assert fit["refit"] == 1
    assert fit["default"] == df[~refit & (df["seed"] == 0)]["test_metric"].iloc[0]
    # a polish that failed is at chance, not left out
    polish = refit & df["protocol"].str.contains("L-BFGS")
    failed = df.assign(
        reason=df["reason"].where(~polish, "weights became non-finite"),
        test_metric=df["test_metric"].where(~polish, float("nan")),
    )
    assert fitness(failed).iloc[0]["polish"] == 1.0


def test_a_cell_at_zero_error_in_every_stage_is_fitted_and_one_that_leaves_zero_is_not(make_cfg):
    cfg = make_cfg(*SHORT, "best_effort.cells=all")
    run(cfg)
    df = analysis.label(results.load(cfg.results_dir))
    trained = df["status"].isin(["ok", "refit"])
    zero = df.assign(test_metric=df["test_metric"].where(~trained, 0.0))
    assert fitness(zero).iloc[0]["fitted"]
    steps = (df["status"] == "refit") & ~df["protocol"].str.contains("L-BFGS")
    left = zero.assign(test_metric=zero["test_metric"].where(~steps, 0.1))
    assert not fitness(left).iloc[0]["stable"]


def test_a_resumed_job_refits_nothing_twice(make_cfg):
    cfg = make_cfg(*SHORT, "best_effort.cells=all")
    run(cfg)
    again = run(cfg)
    assert len(again) == 0 and again.attrs["skipped"] == 2


def test_the_train_loss_gate_excludes_a_cell_worse_than_random_features(make_cfg):
    cfg = make_cfg(*SHORT, "best_effort.cells=all", "baselines=true")
    run(cfg)
    df = analysis.label(results.load(cfg.results_dir))
    refit = df["status"] == "refit"
    rf = fitness(df).iloc[0]["rf_train_loss"]
    assert 0 <= rf < 1e-3  # random features fit the product of two inputs
    below, above = (df.assign(train_loss=df["train_loss"].where(~refit, v)) for v in (0, 10 * rf))
    assert not fitness(below).iloc[0]["gated"]
    gated = fitness(above).iloc[0]
    assert gated["gated"] and gated["train_loss"] > gated["rf_train_loss"]


def test_deciding_cells_are_those_next_to_a_crossing_on_validation():
    rows = pd.DataFrame(
        {
            "cell_id": ["a", "b", "c", "d"],
            "depth": 1,
            "n_train": 0,
            "seed": 0,
            "n_params": [10, 30, 100, 300],
            "val_metric": [0.9, 0.5, 0.05, 0.01],
            "test_metric": [0.0, 0.0, 0.0, 0.0],  # never read: the choice is on validation
            "status": "ok",
            "chance": 1.0,
        }
    )
    assert deciding(rows, [0.1]) == {"b", "c"}
    assert deciding(rows, [0.001]) == {"d"}  # never crossed: the largest decides the bound
    assert deciding(rows, [0.95]) == {"a"}  # reached at the smallest size


def test_best_effort_settings_are_validated(make_cfg):
    with pytest.raises(ConfigError, match="best_effort.cells"):
        run(make_cfg("best_effort.cells=some"))
    with pytest.raises(ConfigError, match="best_effort.steps_factor"):
        run(make_cfg("best_effort.steps_factor=0"))


def test_version_3_to_5_stores_read_with_the_columns_added_since(make_cfg):
    cfg = make_cfg("task.n=2", "grid.depths=[1]", "grid.budgets=[100]")
    stored = run(cfg).sort_values("run_id")
    path = results.files(Path(cfg.results_dir))[0]  # rewritten as version 5 wrote it
    table = pq.read_table(path).drop_columns(["forward_flops"])
    pq.write_table(table.replace_schema_metadata({results.MARKER: b"5"}), path)
    back = results.load(cfg.results_dir).sort_values("run_id")
    assert back["forward_flops"].notna().sum() == stored["forward_flops"].notna().sum() > 0
    assert np.array_equal(back["forward_flops"], stored["forward_flops"], equal_nan=True)
    table = table.drop_columns(["regime"])  # as version 4 wrote it
    pq.write_table(table.replace_schema_metadata({results.MARKER: b"4"}), path)
    back = results.load(cfg.results_dir)
    assert back["regime"].isna().all()
    assert np.array_equal(back["test_metric"].sort_values(), stored["test_metric"].sort_values())
    table = table.drop_columns(["protocol", "base_run_id"])  # and as version 3 wrote it
    pq.write_table(table.replace_schema_metadata({results.MARKER: b"3"}), path)
    back = results.load(cfg.results_dir)
    assert (back["protocol"] == "default").all() and back["base_run_id"].isna().all()
    assert back["regime"].isna().all()
    assert np.array_equal(back["test_metric"].sort_values(), stored["test_metric"].sort_values())
    table = table.replace_schema_metadata({results.MARKER: b"2"})
    pq.write_table(table, path)
    with pytest.warns(UserWarning, match="schema_version 2"):
        assert results.load(cfg.results_dir).empty  # older ones are still refused
