"""The job through Hydra's compose API: rows, resume, determinism, bad input."""

import logging
import re
import warnings

import pandas as pd
import pytest

import depthbench.run as run_module
from depthbench import analysis, initial, progress, results, schema
from depthbench.errors import ConfigError
from depthbench.run import run


def test_smoke_job_writes_one_row_per_model(make_cfg):
    cfg = make_cfg()
    rows = run(cfg)
    stored = results.load(cfg.results_dir)
    assert len(rows) == len(stored) == 2 * 2 * 2  # depths x budgets x seeds (x 1 lr)
    assert set(schema.COLUMNS) <= set(stored.columns)
    assert {"task.n", "task.low", "task.high", "model.activation"} <= set(stored.columns)
    assert stored["run_id"].is_unique
    ok = stored[stored["status"] == "ok"]
    n, w, d = ok["task.n"], ok["width"], ok["depth"]
    assert (ok["n_params"] == (n + 1) * w + (d - 1) * (w + 1) * w + w + 1).all()  # o = 1
    assert (stored["schema_version"] == schema.SCHEMA_VERSION).all()


def test_rerun_trains_nothing_and_adds_no_rows(make_cfg, monkeypatch, tmp_path, tree_digest):
    cfg = make_cfg()
    run(cfg)
    before = tree_digest(tmp_path / "results")

    def must_not_train(*args, **kwargs):
        raise AssertionError("a stored run was trained again")

    monkeypatch.setattr(initial, "train_group", must_not_train)
    assert run(cfg).empty
    assert tree_digest(tmp_path / "results") == before


def test_extending_the_grid_trains_only_the_new_runs(make_cfg):
    run(make_cfg())
    added = run(make_cfg("grid.seeds=3"))
    assert len(added) == 4 and set(added["seed"]) == {2}
    assert len(results.load(make_cfg().results_dir)) == 12


def test_same_config_and_seed_give_the_same_numbers(make_cfg, tmp_path):
    a = run(make_cfg())
    b = run(make_cfg(f"results_dir={tmp_path / 'again'}"))
    cols = ["run_id", "width", "n_params", "train_loss", "test_loss", "test_metric"]
    pd.testing.assert_frame_equal(a[cols].reset_index(drop=True), b[cols].reset_index(drop=True))


def test_infeasible_depths_are_recorded_with_their_reason(make_cfg):
    rows = run(make_cfg("task.n=4", "grid.depths=[1,6]", "grid.budgets=[13,300]"))
    infeasible = rows[rows["status"] == "infeasible"]
    assert set(zip(infeasible["depth"], infeasible["budget"])) == {(6, 13)}
    assert infeasible["reason"].str.startswith("width < 1").all()
    assert infeasible["test_metric"].isna().all() and infeasible["n_params"].isna().all()


def test_half_written_and_corrupt_files_are_never_read_as_results(make_cfg, tmp_path, tree_digest):
    cfg = make_cfg()
    run(cfg)
    store = tmp_path / "results"
    good = results.files(store)[0]
    (store / f".{good.stem}.1234.tmp").write_bytes(good.read_bytes()[:100])  # killed mid-write
    (store / "truncated.parquet").write_bytes(good.read_bytes()[:200])
    pd.DataFrame({"a": [1]}).to_parquet(store / "foreign.parquet")
    before = tree_digest(store)
    with pytest.warns(UserWarning) as caught:
        loaded = results.load(store)
    messages = " ".join(str(w.message) for w in caught)
    assert "truncated.parquet: not a readable Parquet file" in messages
    assert "foreign.parquet: not a depthbench results file" in messages
    assert ".tmp" not in messages
    assert len(loaded) == 8
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert run(cfg).empty  # the damaged files change nothing that is stored
    assert tree_digest(store) == before


def test_tree_model_records_depths_its_input_cannot_take(make_cfg):
    rows = run(make_cfg("model=tree", "task.n=8", "grid.depths=[2,3]", "grid.budgets=[300]"))
    assert set(rows.loc[rows["status"] == "ok", "depth"]) == {3}
    wrong = rows[rows["depth"] == 2]
    assert (wrong["status"] == "infeasible").all() and wrong["reason"].str.contains(
        "need depth 3"
    ).all()
    ok = rows[rows["status"] == "ok"]
    assert (ok["n_hidden"] == 7 * ok["width"]).all()  # 4 + 2 + 1 positions per channel


def test_constructions_are_stored_once_beside_trained_rows(make_cfg, monkeypatch):
    cfg = make_cfg("constructions=true", "task.n=4")
    rows = run(cfg)
    built = rows[rows["status"] == "constructed"].set_index("model")
    assert set(built.index) == {"deep_product", "shallow_product"}
    assert (
        built.loc["deep_product", "n_hidden"] == 12
        and built.loc["shallow_product", "n_hidden"] == 16
    )
    assert (built["test_metric"] < 1e-3).all() and built["scale"].between(1e-3, 1).all()
    assert len(rows[rows["status"] == "ok"]) == 8

    def must_not_build(*args, **kwargs):
        raise AssertionError("a stored construction was built again")

    monkeypatch.setattr(run_module, "_construct", must_not_build)
    assert run(cfg).empty


def test_no_depths_means_constructions_only(make_cfg):
    rows = run(make_cfg("constructions=true", "task=sawtooth", "grid.depths=[]"))
    assert set(rows["status"]) == {"constructed"} and len(rows) == 2
    with pytest.raises(ConfigError, match="grid.depths"):
        run(make_cfg("grid.depths=[]"))


def test_budget_between_two_widths_of_every_depth_is_refused_with_the_reason(make_cfg):
    # the tree net on 64 leaves has 193 parameters at width 1 and 545 at width 2
    with pytest.raises(ConfigError) as err:
        run(make_cfg("model=tree", "task=broadcast", "grid.depths=[6]", "grid.budgets=[300]"))
    message = str(err.value)
    assert message.startswith("grid.budgets: no depth") and "nearest width" in message


@pytest.mark.parametrize("override", ["train.max_members=1", "train.memory_gb=0.0000001"])
def test_chunked_groups_give_the_numbers_of_whole_groups(make_cfg, tmp_path, override):
    whole = run(make_cfg("grid.lrs=[0.003,0.01]"))
    split = run(make_cfg("grid.lrs=[0.003,0.01]", override, f"results_dir={tmp_path / 'split'}"))
    assert set(whole["group_size"]) == {4} and set(split["group_size"]) == {1}
    cols = ["run_id", "train_loss", "test_loss", "test_metric"]
    a, b = (f.sort_values("run_id")[cols].reset_index(drop=True) for f in (whole, split))
    pd.testing.assert_frame_equal(a, b, rtol=1e-5)


def test_tf32_is_recorded_and_names_different_runs_only_when_on(make_cfg, tmp_path):
    off = run(make_cfg())
    on = run(make_cfg("train.tf32=true", f"results_dir={tmp_path / 'tf32'}"))
    assert not off["train.tf32"].any() and on["train.tf32"].all()
    assert set(off["run_id"]).isdisjoint(on["run_id"])
    # off is the default, so the ids of full-precision runs do not depend on the key
    again = run(make_cfg("train.tf32=false", f"results_dir={tmp_path / 'off'}"))
    assert set(again["run_id"]) == set(off["run_id"])
    # the CPU ignores TF32: same numbers under both settings
    key, cols = ["depth", "budget", "seed", "lr"], ["train_loss", "test_metric"]
    pd.testing.assert_frame_equal(
        off.sort_values(key)[cols].reset_index(drop=True),
        on.sort_values(key)[cols].reset_index(drop=True),
    )


def test_too_many_samples_for_a_finite_task_writes_nothing(make_cfg, tmp_path):
    # rhm with P_max = 24 inputs; depth 1 of the tree model is infeasible (stored as
    # such in a valid grid), but the whole job must fail before anything is written
    cfg = make_cfg(
        "task=rhm",
        "task.v=4",
        "task.m=2",
        "task.s=2",
        "task.L=2",
        "task.n_c=3",
        "model=tree",
        "grid.depths=[1,2]",
        "grid.budgets=[300]",
    )
    with pytest.raises(ConfigError, match="grid.n_train"):
        run(cfg)
    store = tmp_path / "results"
    assert not store.exists() or not results.files(store)


def test_online_data_trains_its_own_groups_and_names_its_panel(make_cfg):
    rows = run(
        make_cfg("task.n=2", "grid.n_train=[online,256]", "grid.depths=[1]", "baselines=true")
    )
    trained = rows[rows["status"] == "ok"]
    assert sorted(trained["n_train"].unique()) == [0, 256]
    assert set(trained["group_size"]) == {2}  # online and finite members never share a group
    online = trained[trained["n_train"] == 0]
    assert (online["train_loss"] == online["loss_curve"].map(lambda c: c[-1])).all()
    assert set(rows.loc[rows["status"] == "baseline", "n_train"]) == {0, 256}
    assert any(p.endswith("n_train=online") for p in analysis.label(rows)["panel"])


def test_without_a_terminal_training_logs_progress_lines(make_cfg, monkeypatch, caplog):
    """Under SLURM or `> log` there is no bar: a job logs steps done and time left."""
    monkeypatch.setattr(progress, "LOG_EVERY", 0.0)  # a line at every block of steps
    with caplog.at_level(logging.INFO, logger="depthbench.progress"):
        run(make_cfg("train.progress=true", "grid.depths=[1]", "grid.budgets=[100]"))
    lines = [r.getMessage() for r in caplog.records if r.name == "depthbench.progress"]
    assert lines and lines[-1].startswith("progress: ")
    assert re.search(r"\d+/\d+ steps \(\d+%\), group 1/1, \d+m\d\ds elapsed", lines[-1])
    caplog.clear()
    run(make_cfg("train.progress=false", "grid.depths=[1]", "grid.budgets=[100]", "data_seed=1"))
    assert not [r for r in caplog.records if r.name == "depthbench.progress"]


def test_the_time_left_is_weighted_by_cost_not_steps():
    """Issue 28: a small group then one nine times as costly; after the small one, a
    step-weighted estimate says the job is half done, the cost-weighted one a tenth."""
    bar = progress.Progress([1.0, 9.0], steps=10, show=False)
    bar.next_group()
    bar.update(10)
    assert bar.line(elapsed=60.0).endswith("about 9m00s left")


def test_a_busy_machine_is_named_before_training(monkeypatch):
    from depthbench import job

    monkeypatch.setattr(job, "available_cpus", lambda: 2)
    monkeypatch.setattr(job.os, "getloadavg", lambda: (5.0, 5.0, 5.0))
    assert "load average 5.0 on 2 CPUs" in (job.crowding(2) or "")
    monkeypatch.setattr(job.os, "getloadavg", lambda: (0.5, 0.5, 0.5))
    assert job.crowding(2) is None


def test_torch_threads_default_to_the_cpus_this_process_may_use(make_cfg, monkeypatch):
    import torch

    from depthbench import run as run_module

    monkeypatch.setattr(run_module, "available_cpus", lambda: 1)
    before = torch.get_num_threads()
    try:
        run(make_cfg("grid.depths=[1]", "grid.budgets=[100]", "train.steps=2"))
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
