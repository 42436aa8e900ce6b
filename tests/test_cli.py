"""The real ``depthbench`` command in a subprocess, as a user runs it."""

import shlex

import pandas as pd
import pytest

from depthbench import results, tasks
from depthbench.catalog import describe
from depthbench.experiments import conf_dir
from depthbench.sweep import report_hint


@pytest.fixture(scope="module")
def smoke_dir(tmp_path_factory, depthbench):
    """A results dir filled by ``depthbench run experiment=smoke`` (shared by the module)."""
    cwd = tmp_path_factory.mktemp("cli")
    proc = depthbench("run", "experiment=smoke", "results_dir=results/smoke", cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    return cwd


def test_run_writes_results_and_hydra_outputs(smoke_dir):
    stored = results.load(smoke_dir / "results/smoke")
    trained, fitted = stored[stored["status"] == "ok"], stored[stored["status"] == "baseline"]
    assert len(trained) == 8 and len(trained) + len(fitted) == len(stored)
    # a linear model, and random features at both budgets for both seeds
    assert sorted(fitted["model"].value_counts().items()) == [("linear", 1), ("random_features", 4)]
    assert list((smoke_dir / "outputs").rglob(".hydra/config.yaml"))


def test_report_writes_tables_and_plots(smoke_dir, depthbench):
    proc = depthbench("report", "results/smoke", "--out", "reports/smoke", cwd=smoke_dir)
    assert proc.returncode == 0, proc.stderr
    out = smoke_dir / "reports/smoke"
    page = (out / "index.md").read_text()
    assert "| P depth 1" in page and "P depth 2" in page and "product n=8" in page
    cells = pd.read_csv(out / "tables/cells.csv")
    assert len(cells) == 4 and cells["ok"].sum() == 8
    assert (out / "fig1_metric_vs_params.png").stat().st_size > 1000
    assert not list(out.glob("*.pdf"))  # PDFs on request (--pdf)
    html = (out / "index.html").read_text()
    assert 'src="fig1_metric_vs_params.png"' in html and "base64" not in html
    again = depthbench("report", "reports/smoke/rows", "--out", "rebuilt", cwd=smoke_dir)
    assert again.returncode == 0, again.stderr
    for table in (out / "tables").iterdir():  # the report rebuilds from its own rows
        assert (smoke_dir / "rebuilt/tables" / table.name).read_bytes() == table.read_bytes()


def test_multirun_sweeps_task_instances(tmp_path, depthbench):
    proc = depthbench(
        "run",
        "-m",
        "experiment=smoke",
        "task.n=3,5",
        "grid.depths=[1]",
        "grid.budgets=[100]",
        "results_dir=results/multi",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "read them with: depthbench report results/multi" in proc.stdout  # said once
    assert proc.stdout.count("depthbench report") == 1
    stored = results.load(tmp_path / "results/multi")
    assert sorted(stored["task.n"].unique()) == [3, 5]


def test_a_declared_sweep_without_m_is_refused_with_the_command_that_runs_it(tmp_path, depthbench):
    proc = depthbench("run", "experiment=oracles", "results_dir=results/o", cwd=tmp_path)
    assert proc.returncode == 2
    (line,) = proc.stderr.strip().splitlines()
    assert "task.n" in line and "depthbench run -m experiment=oracles" in line
    assert not (tmp_path / "results/o").exists()  # nothing trained, nothing stored
    fixed = depthbench(  # every swept key fixed on the command line: one instance, as asked
        "run",
        "experiment=oracles",
        "task.n=3",
        "baselines=false",
        "results_dir=results/o",
        cwd=tmp_path,
    )
    assert fixed.returncode == 0, fixed.stderr
    assert "rows are in results/o; read them with: depthbench report results/o" in fixed.stderr
    assert results.load(tmp_path / "results/o")["task.n"].unique().tolist() == [3]


def test_every_family_runs_end_to_end(tmp_path, depthbench):
    proc = depthbench(
        "run",
        "-m",
        f"task={','.join(tasks.FAMILIES)}",
        "experiment=smoke",
        "grid.seeds=1",
        "results_dir=results/all",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    stored = results.load(tmp_path / "results/all")
    assert sorted(stored["task"].unique()) == sorted(tasks.FAMILIES)
    assert set(stored["status"]) == {"ok", "baseline"} and stored["test_metric"].notna().all()
    assert stored["val_metric"].notna().all()
    fitted = stored[stored["status"] == "baseline"].groupby("task")["model"].agg(set)
    assert all({"linear", "random_features"} <= names for names in fitted)
    assert "majority" in fitted["broadcast"]
    has_bayes = stored.groupby("task")["bayes_metric"].apply(lambda b: b.notna().all())
    assert has_bayes[has_bayes].index.tolist() == ["broadcast"]


def test_list_shows_families_models_and_experiments(tmp_path, depthbench):
    proc = depthbench("list", cwd=tmp_path)
    assert proc.returncode == 0
    for word in (*tasks.FAMILIES, "mlp", "smoke", "quick", "silu", "exponents=[1, 2, 3]", "n_c=8"):
        assert word in proc.stdout


def test_list_shows_each_experiment_whole_with_its_jobs_and_models():
    flat = " ".join(describe(conf_dir()).split())  # descriptions wrap at 100 columns
    assert (
        "lin_tegmark_product: 3 jobs, needs -m (task.n=4,6,8); 324 models a job (3 depths x" in flat
    )
    # the whole leading comment, its last line included
    assert (
        "Lin, Tegmark & Rolnick 2017: the product of n = 4, 6, 8 inputs (full: 4..10). Neuron "
        "counts N_d at small eps against the theorems' 2^n (one hidden layer) and 4(n-1) (depth "
        "ceil(log2 n)); the constructed networks and random features beside; fresh samples every "
        "step, so no count is an overfitting effect; run with -m"
    ) in flat
    assert "quick: 1 job; 240 models a job" in flat


def test_the_printed_report_commands_are_shell_quoted():
    """Issue 27: a results dir with a space or a quote pastes as one argument."""
    hint = report_hint(["results/my dir", "results/it's"])
    command = hint.split("read them with: ", 1)[1]
    assert shlex.split(command) == [
        "depthbench", "report", "results/my dir", "results/it's", "--out", "local-reports/my dir",
    ]  # fmt: skip


def test_version_names_the_package_and_torch(tmp_path, depthbench):
    import torch

    from depthbench import __version__

    proc = depthbench("--version", cwd=tmp_path)
    assert proc.returncode == 0
    assert proc.stdout.startswith(f"depthbench {__version__} (torch {torch.__version__}")


def test_ls_lists_what_a_store_holds(smoke_dir, depthbench):
    proc = depthbench("ls", "results/smoke", cwd=smoke_dir)
    assert proc.returncode == 0, proc.stderr
    rows = results.load(smoke_dir / "results" / "smoke")
    assert f"{len(rows)} rows" in proc.stdout and "kind trained" in proc.stdout
