"""The real ``depthbench`` command in a subprocess, as a user runs it."""

import os
import subprocess
import sys

import pandas as pd
import pytest

from depthbench import results, tasks


def depthbench(*args, cwd):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        [sys.executable, "-m", "depthbench.cli", *args], cwd=cwd, env=env,
        capture_output=True, text=True, timeout=300,
    )


@pytest.fixture(scope="module")
def smoke_dir(tmp_path_factory):
    """A results dir filled by ``depthbench run experiment=smoke`` (shared by the module)."""
    cwd = tmp_path_factory.mktemp("cli")
    proc = depthbench("run", "experiment=smoke", "results_dir=results/smoke", cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    return cwd


def test_run_writes_results_and_hydra_outputs(smoke_dir):
    stored = results.load(smoke_dir / "results/smoke")
    assert len(stored) == 8 and (stored["status"] == "ok").all()
    assert list((smoke_dir / "outputs").rglob(".hydra/config.yaml"))


def test_report_writes_tables_and_plots(smoke_dir):
    proc = depthbench("report", "results/smoke", "--out", "reports/smoke", cwd=smoke_dir)
    assert proc.returncode == 0, proc.stderr
    out = smoke_dir / "reports/smoke"
    page = (out / "index.md").read_text()
    assert "| P depth 1" in page and "P depth 2" in page and "product n=8" in page
    cells = pd.read_csv(out / "tables/cells.csv")
    assert len(cells) == 4 and cells["ok"].sum() == 8
    for suffix in ("png", "pdf"):
        assert (out / f"fig1_metric_vs_params.{suffix}").stat().st_size > 1000


def test_report_names_a_corrupt_file_and_goes_on(smoke_dir, tmp_path):
    store = tmp_path / "store"
    store.mkdir()
    for path in results.files(smoke_dir / "results/smoke"):
        (store / path.name).write_bytes(path.read_bytes())
    (store / "corrupt.parquet").write_bytes(b"PAR1 truncated")
    proc = depthbench("report", str(store), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "warning: skipping" in proc.stderr and "corrupt.parquet" in proc.stderr
    assert "Traceback" not in proc.stderr and (tmp_path / "out/index.html").is_file()


def test_multirun_sweeps_task_instances(tmp_path):
    proc = depthbench("run", "-m", "experiment=smoke", "task.n=3,5", "grid.depths=[1]",
                      "grid.budgets=[100]", "results_dir=results/multi", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    stored = results.load(tmp_path / "results/multi")
    assert sorted(stored["task.n"].unique()) == [3, 5]


def test_every_family_runs_end_to_end(tmp_path):
    proc = depthbench("run", "-m", f"task={','.join(tasks.FAMILIES)}", "experiment=smoke",
                      "grid.seeds=1", "results_dir=results/all", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    stored = results.load(tmp_path / "results/all")
    assert sorted(stored["task"].unique()) == sorted(tasks.FAMILIES)
    assert (stored["status"] == "ok").all() and stored["test_metric"].notna().all()
    has_bayes = stored.groupby("task")["bayes_metric"].apply(lambda b: b.notna().all())
    assert has_bayes[has_bayes].index.tolist() == ["broadcast"]


def test_list_shows_families_models_and_experiments(tmp_path):
    proc = depthbench("list", cwd=tmp_path)
    assert proc.returncode == 0
    for word in (*tasks.FAMILIES, "mlp", "smoke", "quick", "silu", "exponents=[1, 2, 3]", "n_c=8"):
        assert word in proc.stdout


SMOKE = ["run", "experiment=smoke", "results_dir=results/smoke"]


@pytest.mark.parametrize(
    "args,expected",
    [([*SMOKE, "task=nope"], "Could not find 'task/nope'"),
     ([*SMOKE, "model.activation=swish2"],
      "model.activation: must be one of relu, tanh, gelu, silu, softplus, sigmoid, got 'swish2'"),
     ([*SMOKE, "task.n=-3"], "task.n: must be an integer in [2, 64], got -3"),
     ([*SMOKE, "grid.depths=[]"], "grid.depths: must be a non-empty list"),
     ([*SMOKE, "grid.budgets=[5]"], "grid.budgets: budget 5 is below the smallest model"),
     (["report", "results/missing", "--out", "r"], "results directory results/missing does not exist")],
)
def test_bad_input_exits_non_zero_with_a_message_and_keeps_results(
    smoke_dir, args, expected, tree_digest
):
    store = smoke_dir / "results/smoke"
    before = tree_digest(store)
    proc = depthbench(*args, cwd=smoke_dir)
    assert proc.returncode != 0
    assert expected in proc.stderr
    assert "Traceback" not in proc.stderr
    assert tree_digest(store) == before


def test_report_of_an_empty_dir_is_a_clear_error(tmp_path):
    (tmp_path / "empty").mkdir()
    proc = depthbench("report", "empty", "--out", "r", cwd=tmp_path)
    assert proc.returncode == 2 and "no result rows in empty" in proc.stderr
