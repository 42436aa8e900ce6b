"""Bad input, catalogued: every case gives one line that names what is wrong and what
is allowed, stops where the run cannot go on, and leaves stored results byte-identical.

Configs go through :func:`depthbench.run.run` (the error a user sees is
``error: <that line>``, exit 2); command-line arguments and stored data go through
the real command.
"""

import shutil
import warnings
from pathlib import Path

import pandas as pd
import pytest

from depthbench import results, schema
from depthbench.errors import ConfigError
from depthbench.run import run


@pytest.fixture(scope="module")
def store(tmp_path_factory, smoke) -> Path:
    """A results dir holding one smoke run."""
    path = tmp_path_factory.mktemp("bad") / "results"
    run(smoke(path))
    return path


CONFIG = [  # override, the key the message starts with, what it says is allowed
    ("model.activation=swish2", "model.activation", "must be one of relu, tanh"),
    ("model.residual=1", "model.residual", "must be true or false"),
    ("task.n=-3", "task.n", "must be an integer in [2, 64]"),
    ("task.n=abc", "task.n", "must be an integer in [2, 64], got 'abc'"),
    ("+task.m=2", "task.m", ""),
    ("task.low=2", "task.high", "must be greater than task.low"),
    ("task=broadcast task.eps=0.7", "task.eps", "must be in (0, 0.5)"),
    ("task=rhm task.m=17", "task.m", "exceeds v^(s-1) = 16"),
    ("task=rhm task.n_c=100", "task.m", "n_c * m = 400 exceeds v^s = 256"),
    ("task=sawtooth task.mode=bogus", "task.mode", "must be one of regression, classification"),
    ("task=radial task.profile=cube", "task.profile", "must be one of ball, ball_l2, oscillating"),
    ("task=teacher task.L_t=0", "task.L_t", "must be an integer in [1, 16]"),
    ("task=tree task.s=1", "task.s", "must be an integer in [2, 16]"),
    ("task=polynomial task.degree=7", "task.degree", "must be an integer in [2, 4]"),
    ("task=monomial task.exponents=[1,-2]", "task.exponents", "must be an integer in [1, 64]"),
    ("task=power task.d=0", "task.d", "must be an integer in [2, 64]"),
    ("grid.depths=[]", "grid.depths", "must be a non-empty list"),
    ("grid.budgets=[5]", "grid.budgets", "budget 5 is below the smallest model"),
    ("grid.lrs=[0]", "grid.lrs", "must be > 0"),
    ("grid.lrs=0.1", "grid.lrs", "must be a non-empty list of positive numbers"),
    ("grid.seeds=0", "grid.seeds", "must be an integer in [1, 10000]"),
    ("grid.n_train=[0]", "grid.n_train", "must be an integer >= 1"),
    ("train.steps=0", "train.steps", "must be an integer in [1, 1000000000]"),
    ("train.batch_size=1.5", "train.batch_size", "must be an integer >= 1"),
    ("train.device=tpu", "train.device", "must be one of auto, cpu, cuda"),
    ("train.memory_gb=0", "train.memory_gb", "must be > 0"),
    ("train.threads=0", "train.threads", "must be an integer >= 1"),
    ("train.tf32=yes", "train.tf32", "must be true or false"),
    ("train.cuda_graph=1", "train.cuda_graph", "must be true or false"),
    ("train.progress=1", "train.progress", "must be true or false"),
    ("data_seed=-1", "data_seed", "must be an integer in [0, 2147483647]"),
    ("train.schedule=step", "train.schedule", "must be one of cosine, linear, constant"),
    ("train.warmup=1.5", "train.warmup", "must be a fraction of the steps in [0, 1)"),
    ("train.final_lr=2", "train.final_lr", "must be a fraction of the peak rate in [0, 1]"),
    ("train.n_val=1", "train.n_val", "must be an integer >= 2"),
    ("report.eps=[]", "report.eps", "must be a non-empty list of positive thresholds"),
    ("report.eps=[0.1,-1]", "report.eps", "must be > 0"),
    ("report.eps_scale=percent", "report.eps_scale", "must be one of chance, bayes, absolute"),
    ("report.regime=[1]", "report.regime", "must be a sentence or null"),
    ("baselines=maybe", "baselines", "must be true or false"),
    ("+train.lr=0.1", "train.lr", "unknown parameter; allowed: batch_size, cuda_graph"),
    ("+grid.lr=[0.1]", "grid.lr", "did you mean grid.lrs? allowed: budgets, depths, lrs"),
    ("+train.step=10", "train.step", "did you mean train.steps? allowed:"),
    ("+report.epsilon=[0.1]", "report.epsilon", "did you mean report.eps? allowed: eps, eps_scale"),
    ("train.batch_size=1024", "train.batch_size", "1024 is larger than the smallest training set"),
    (
        "grid.depths=[2] grid.budgets=[100000000000]",
        "grid.budgets",
        "budget 100000000000 at depth 2 needs about",
    ),
    ("+results=x", "results", "unknown key; allowed: baselines, best_effort, constructions"),
    # issue 27: values that failed only after training, or in a traceback
    ("task=power task.d=64 task.low=-5 task.high=5", "task", "overflow float32"),
    ("task.low=0 task.high=1e-30", "task", "have a standard deviation of 0 in float32"),
    ("data_seed=99999999999999999999", "data_seed", "must be an integer in [0, 2147483647]"),
    (
        "task=tree task.function_seed=99999999999999999999",
        "task.function_seed",
        "must be an integer in [0, 2147483647]",
    ),
    ("grid.seeds=99999999999999999999", "grid.seeds", "must be an integer in [1, 10000]"),
    ("train.steps=99999999999999999999", "train.steps", "in [1, 1000000000]"),
    ("grid.budgets=[99999999999999999999]", "grid.budgets", "must be an integer >= 1"),
    ("train.memory_gb=1e300", "train.memory_gb", "must be at most 1.04858e+06"),
    ("train.n_test=1000000000000", "train.n_test", "more than the"),
    ("grid.n_train=[1000000000000]", "grid.n_train", "more than the"),
    ("grid.n_train=[offline]", "grid.n_train", "must be an integer >= 1"),
    ("task=rhm grid.n_train=[online]", "grid.n_train", "online data needs fresh inputs"),
    ("fail_fast=maybe", "fail_fast", "must be true or false"),
    ("model=tree model.s=3", "grid.depths", "not a power of s=3"),
    (
        "task=rhm task.v=4 task.m=2 task.s=2 task.L=2 task.n_c=3 model=tree grid.depths=[2]",
        "grid.n_train",
        "",
    ),
]


@pytest.mark.parametrize("overrides,key,says", CONFIG, ids=[c[0] for c in CONFIG])
def test_bad_config_is_refused_by_name_and_stores_nothing(
    store, smoke, tree_digest, overrides, key, says
):
    before = tree_digest(store)
    with pytest.raises(ConfigError) as err:
        run(smoke(store, *overrides.split()))
    message = str(err.value)
    assert message.startswith(f"{key}: ") and says in message and "\n" not in message
    assert tree_digest(store) == before


@pytest.fixture
def workdir(store, tmp_path) -> Path:
    """A directory holding ``results`` (a copy of the store), ``empty`` and a file ``afile``."""
    shutil.copytree(store, tmp_path / "results")
    (tmp_path / "empty").mkdir()
    (tmp_path / "afile").write_text("not a directory")
    (tmp_path / "dangling").symlink_to("/nonexistent/dir")
    return tmp_path


CLI = [  # arguments, exit status, what stderr says
    (["run", "experiment=smoke", "task=produc"], 2, "no such task (did you mean product?)"),
    (
        ["run", "experiment=quik"],
        2,
        "error: experiment=quik: no such experiment (did you mean quick?)",
    ),
    (["run", "--experiment", "smoke"], 2, "takes Hydra overrides: write experiment=smoke"),
    (
        ["run", "experiment=smoke", "train.lr=0.01"],
        2,
        "train.lr is not a key of this config (did you mean grid.lrs?)",
    ),
    (["run", "experiment=smoke", "train.stpes=5"], 2, "(did you mean train.steps?)"),
    (["run", "experiment=smoke", "+train.stpes=5"], 2, "did you mean train.steps?"),
    (["run", "experiment=smoke", "grid.lrs=0.01"], 2, "write grid.lrs=[0.01]"),
    (
        ["run", "-m", "experiment=smoke", "task.n=3,4", "grid.depthz=[1]"],
        2,
        "did you mean grid.depths?",
    ),
    (
        ["run", "experiment=smoke", "model.activation=swish2"],
        2,
        "error: model.activation: must be one of relu, tanh, gelu, silu, softplus, sigmoid, "
        "got 'swish2'",
    ),
    (
        ["run", "-m", "experiment=smoke", "task.n=99,3", "fail_fast=true"],
        2,
        "error: task.n: must be an integer in [2, 64], got 99",
    ),
    (["run", "experiment=smoke", "=5"], 2, "error: override '=5' names no key"),
    (["run", "experiment=smoke", "results_dir=" + "a" * 300], 2, "(File name too long)"),
    (["run", "experiment=smoke", "results_dir=dangling"], 2, "is a link to /nonexistent/dir"),
    (["report", "missing", "--out", "r"], 2, "error: results directory missing does not exist"),
    (["report", "empty", "--out", "r"], 2, "error: no result rows in empty"),
    (["front", "empty"], 2, "error: empty has no claims.yaml"),
    (["ls", "missing"], 2, "error: results directory missing does not exist"),
    (["report", "results", "--out", "afile"], 2, "error: --out afile is a file"),
    (
        ["report", "results", "--out", "r", "--eps", "0.1", "-1"],
        2,
        "error: --eps: thresholds must be positive",
    ),
]


@pytest.mark.parametrize("args,status,says", CLI, ids=[" ".join(c[0]) for c in CLI])
def test_bad_arguments_exit_non_zero_with_one_line(
    workdir, depthbench, tree_digest, args, status, says
):
    before = tree_digest(workdir / "results")
    if args[0] == "run" and not any(a.startswith("results_dir=") for a in args):
        args = [*args, "results_dir=results"]
    proc = depthbench(*args, cwd=workdir)
    assert proc.returncode == status, proc.stderr
    assert says in proc.stderr and "Traceback" not in proc.stderr
    assert tree_digest(workdir / "results") == before


def _older_schema(path: Path) -> None:
    rows = (
        pd.read_parquet(path)
        .drop(
            columns=[
                "val_loss",
                "val_metric",
                "n_val",
                "converged",
                "loss_steps",
                "loss_curve",
                "eps",
                "eps_scale",
                "schedule",
                "ridge",
            ]
        )
        .assign(schema_version=2)
    )
    rows.to_parquet(path.with_name("old-" + path.name), index=False)


STORED = [  # what lands in the results dir, what the report says about it
    (
        lambda p: (p / "truncated.parquet").write_bytes(
            p.joinpath(results.files(p)[0].name).read_bytes()[:300]
        ),
        "truncated.parquet: not a readable Parquet file",
    ),
    (
        lambda p: (p / "notes.parquet").write_text("a text file, not Parquet"),
        "notes.parquet: not a readable Parquet file",
    ),
    (
        lambda p: pd.DataFrame({"a": [1]}).to_parquet(p / "foreign.parquet"),
        "foreign.parquet: not a depthbench results file",
    ),
]


@pytest.mark.parametrize("damage,says", STORED, ids=["truncated", "not parquet", "foreign"])
def test_damaged_files_are_named_and_skipped(workdir, depthbench, smoke, tree_digest, damage, says):
    store = workdir / "results"
    damage(store)
    before = tree_digest(store)
    proc = depthbench("report", "results", "--out", "r", cwd=workdir)
    assert proc.returncode == 0 and f"warning: skipping results/{says}" in proc.stderr
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert run(smoke(store)).empty  # nothing to redo: the good files are all there
    assert any(says in str(w.message) for w in caught)
    assert tree_digest(store) == before


def test_a_file_of_an_older_schema_is_refused_by_the_report(workdir, depthbench, tree_digest):
    store = workdir / "results"
    _older_schema(results.files(store)[0])
    before = tree_digest(store)
    proc = depthbench("report", "results", "--out", "r", cwd=workdir)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    reads = f"this depthbench reads {schema.SCHEMA_VERSION}"
    assert f"was written with schema_version 2; {reads}" in proc.stderr
    assert "old-" in proc.stderr and tree_digest(store) == before
