"""The results store never reports a wrong number without a word: conflicting rows,
foreign files, damaged bytes, clashing temporary names and older files (issue 14)."""

import math
import os
import re
import shutil
import threading
import warnings
from pathlib import Path

import pandas as pd
import pytest

from depthbench import results
from depthbench.errors import ResultsError
from depthbench.report import build_report
from depthbench.run import run


@pytest.fixture(scope="module")
def stored(tmp_path_factory, smoke) -> Path:
    """A results dir holding one smoke run (trained rows only)."""
    path = tmp_path_factory.mktemp("store") / "results"
    run(smoke(path, "task.n=2", "baselines=false"))
    return path


def _copy(stored: Path, to: Path) -> Path:
    shutil.copytree(stored, to)
    return to


def test_rows_that_share_a_run_id_but_disagree_are_refused_naming_both_files(stored, tmp_path):
    a, b = _copy(stored, tmp_path / "a"), _copy(stored, tmp_path / "b")
    path = results.files(b)[0]
    rows = pd.read_parquet(path)
    results.write(rows.assign(test_metric=rows["test_metric"] * 1.5), b, path.stem)
    with pytest.raises(ResultsError, match="stored with different outcomes") as err:
        results.load([a, b])
    assert str(results.files(a)[0]) in str(err.value) and str(path) in str(err.value)
    with pytest.warns(UserWarning, match="different outcomes"):
        assert len(results.load([a, b], conflicts="warn")) == len(results.load(a))


@pytest.mark.parametrize(
    "column,value,says",
    [
        ("test_metric", "0.1", "'test_metric' is large_string, declared double"),
        ("depth", 2.5, "'depth' is double, declared int64"),
        (
            "task.n",
            [1, 2],
            "'task.n' is list<item: int64>; task, model and theory columns hold scalars",
        ),
    ],
)
def test_rows_of_another_type_than_the_schema_are_refused_before_writing(
    stored, tmp_path, column, value, says
):
    rows = pd.read_parquet(results.files(stored)[0])
    with pytest.raises(ValueError, match=re.escape(says)):
        results.write(rows.assign(**{column: [value] * len(rows)}), tmp_path, "cell")
    with pytest.raises(ValueError, match="rows lack result column 'run_id'"):
        results.write(rows.drop(columns="run_id"), tmp_path, "cell")
    assert not tmp_path.exists() or not list(tmp_path.iterdir())


def test_agreeing_duplicates_merge_the_same_in_any_order(stored, tmp_path):
    a, b = _copy(stored, tmp_path / "a"), _copy(stored, tmp_path / "b")
    build_report([a, b], tmp_path / "ab")
    build_report([b, a], tmp_path / "ba")
    for name in ("cells.csv", "p_d.csv"):
        assert (tmp_path / "ab/tables" / name).read_bytes() == (
            tmp_path / "ba/tables" / name
        ).read_bytes()


def test_a_derived_table_in_the_results_dir_hides_nothing(stored, tmp_path):
    store = _copy(stored, tmp_path / "r")
    rows = results.load(store)
    derived = rows.groupby(["run_id", "schema_version"], as_index=False)["test_metric"].mean()
    derived.to_parquet(store / "aaa-summary.parquet")  # sorts first: it used to win
    with pytest.warns(UserWarning, match="aaa-summary.parquet: not a depthbench results file"):
        again = results.load(store)
    pd.testing.assert_frame_equal(again, rows)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert results.stored_run_ids(store) == set(rows["run_id"])


def test_two_writers_with_one_pid_never_publish_a_damaged_file(stored, tmp_path, monkeypatch):
    rows = pd.read_parquet(results.files(stored)[0])
    monkeypatch.setattr(os, "getpid", lambda: 4242)  # two containers, one PID
    target = tmp_path / "w"
    target.mkdir()
    stop, bad = threading.Event(), []

    def writer():
        for _ in range(40):
            results.write(rows, target, "cell")

    def reader():
        while not stop.is_set():
            path = target / "cell.parquet"
            if path.exists():
                try:
                    pd.read_parquet(path)
                except Exception as exc:  # a torn or empty file
                    bad.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(2)]
    watch = threading.Thread(target=reader)
    watch.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    watch.join()
    assert not bad and pd.read_parquet(target / "cell.parquet").equals(rows)
    assert not list(target.glob(".*.tmp"))


def test_a_file_of_an_older_schema_survives_a_run_that_writes_its_name(stored, tmp_path):
    store = _copy(stored, tmp_path / "r")
    path = results.files(store)[0]
    old = pd.read_parquet(path).assign(schema_version=2)
    old.to_parquet(path, index=False)  # the name a rerun of its cell writes
    before = path.read_bytes()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rows = pd.read_parquet(results.files(stored)[0])
        written = results.write(rows, store, path.stem)
    assert path.read_bytes() == before and written != path and written.exists()


def test_stale_temporary_files_of_dead_writers_are_removed(tmp_path):
    import fcntl
    import socket

    host = socket.gethostname()
    dead = tmp_path / f".cell.{host}.{os.getpid()}.ab12cd34.tmp"  # its PID alive, no lock
    # a live writer in another PID namespace: its PID means nothing here, its lock holds
    elsewhere_alive = tmp_path / f".cell.{host}.999999999.ab12cd34.tmp"
    other_host = tmp_path / ".cell.another-host.1.ab12cd34.tmp"
    for p in (dead, elsewhere_alive, other_host):
        p.write_bytes(b"half a file")
    with open(elsewhere_alive, "rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        assert results.clean_stale(tmp_path) == [dead]
        assert elsewhere_alive.exists() and other_host.exists() and not dead.exists()
    assert results.clean_stale(tmp_path) == [elsewhere_alive]  # its writer died
    assert other_host.exists()


def test_a_writer_whose_temporary_file_a_cleaner_removed_starts_again(tmp_path, monkeypatch):
    rows = pd.DataFrame({"run_id": ["a"]})
    real = results._same_file
    calls = []

    def cleaned_once(path, fd):  # a cleaner removed the first file before its lock
        calls.append(path)
        if len(calls) == 1:
            path.unlink()
        return real(path, fd)

    monkeypatch.setattr(results, "_same_file", cleaned_once)
    monkeypatch.setattr(results.schema, "check", lambda schema: None)
    written = results.write(rows, tmp_path, "cell")
    assert len(calls) == 2 and calls[0] != calls[1]
    assert pd.read_parquet(written).equals(rows) and not list(tmp_path.glob(".*.tmp"))


def test_a_flipped_byte_is_caught_never_read_as_numbers(stored, tmp_path):
    source = results.files(stored)[0]
    good = results.load(stored)
    data = bytearray(source.read_bytes())
    caught = wrong = 0
    for i in range(4, len(data) - 8, max(1, len(data) // 150)):  # past the leading magic
        store = tmp_path / f"flip{i}"
        store.mkdir()
        for other in results.files(stored)[1:]:
            shutil.copy(other, store / other.name)
        flipped = bytearray(data)
        flipped[i] ^= 0xFF
        (store / source.name).write_bytes(bytes(flipped))
        with warnings.catch_warnings(record=True) as said:
            warnings.simplefilter("always")
            got = results.load(store)
        if any(source.name in str(w.message) for w in said):
            caught += 1
            continue
        merged = got.sort_values("run_id").reset_index(drop=True)
        if not merged.equals(good.sort_values("run_id").reset_index(drop=True)):
            wrong += 1
        shutil.rmtree(store)
    assert wrong == 0 and caught > 0


def test_a_file_as_results_dir_is_refused_before_any_work(tmp_path, depthbench):
    (tmp_path / "taken").write_text("not a directory")
    proc = depthbench("run", "experiment=smoke", "results_dir=taken", cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert (
        proc.stderr.strip()
        == "error: results_dir: taken is a file; give a directory to store rows in"
    )
    assert "done:" not in proc.stderr + proc.stdout  # refused before training anything


def test_a_target_whose_square_overflows_float32_trains_and_is_not_diverged(make_cfg):
    rows = run(make_cfg("task=power", "task.d=64", "task.low=-3", "task.high=3"))
    assert (rows["status"] == "ok").all(), rows["reason"].unique()
    assert rows["test_metric"].map(math.isfinite).all() and rows["val_metric"].notna().all()


NUMBERS = ["train_loss", "val_metric", "test_metric"]


@pytest.mark.parametrize(
    "task",
    [
        ["task.n=3"],
        [
            "task=rhm",
            "task.v=8",
            "task.m=4",
            "task.L=3",
            "task.n_c=4",
            "train.n_val=256",
            "train.n_test=256",
        ],  # drawn without replacement
    ],
)
def test_a_grid_extended_in_place_stores_what_a_fresh_run_computes(make_cfg, tmp_path, task):
    run(make_cfg(*task, "grid.n_train=[128]", f"results_dir={tmp_path / 'grown'}"))
    added = run(make_cfg(*task, "grid.n_train=[128,384]", f"results_dir={tmp_path / 'grown'}"))
    assert set(added["n_train"]) == {384}  # the 128 rows are kept, as stored
    fresh = run(make_cfg(*task, "grid.n_train=[128,384]", f"results_dir={tmp_path / 'fresh'}"))
    grown = results.load(tmp_path / "grown").set_index("run_id").sort_index()
    fresh = fresh.set_index("run_id").sort_index()
    assert list(grown.index) == list(fresh.index)
    # the same data, targets and minibatches: equal up to the float32 rounding of batched
    # kernels, whose groups differ here (the tolerance of a group against its one-member runs)
    pd.testing.assert_frame_equal(grown[NUMBERS], fresh[NUMBERS], rtol=1e-5, atol=0)
