"""Sweeps through Hydra's launchers, faults mid-sweep, and jobs side by side."""

import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pandas as pd
import pytest
import torch

from depthbench import job, results
from depthbench.device import resolve_device

# three task instances; steps enough that a job lasts about a second; one thread
# per job, so that serial and parallel jobs compute with the same kernels; trained rows
# only (one file per cell)
SWEEP = [
    "run",
    "-m",
    "experiment=smoke",
    "task.n=3,4,5",
    "grid.depths=[1,2]",
    "grid.budgets=[100,300]",
    "train.steps=400",
    "train.threads=1",
    "baselines=false",
]
NUMBERS = ["n_params", "train_loss", "test_loss", "test_metric", "steps"]


def numbers(store) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no unreadable, foreign or duplicate file
        rows = results.load(store)
    return rows.set_index("run_id").sort_index()[NUMBERS]


def run_ids_per_file(store) -> pd.Series:
    ids = pd.concat([pd.read_parquet(p, columns=["run_id"]) for p in results.files(store)])
    return ids["run_id"].value_counts()


@pytest.fixture(scope="module")
def serial(tmp_path_factory, depthbench) -> pd.DataFrame:
    cwd = tmp_path_factory.mktemp("serial")
    proc = depthbench(*SWEEP, "results_dir=results", cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    assert "sweep summary: 3 jobs, 3 done, 0 failed" in proc.stdout
    assert "rows written: ok 24" in proc.stdout
    return numbers(cwd / "results")


@pytest.mark.parametrize("launcher", ["processes", "slurm_local"])
def test_launchers_store_the_rows_of_a_serial_sweep(serial, depthbench, tmp_path, launcher):
    proc = depthbench(*SWEEP, f"hydra/launcher={launcher}", "results_dir=results", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "sweep summary: 3 jobs, 3 done, 0 failed" in proc.stdout
    pd.testing.assert_frame_equal(numbers(tmp_path / "results"), serial)


def test_a_killed_sweep_resumes_to_the_rows_of_an_uninterrupted_one(serial, tmp_path):
    store = tmp_path / "results"
    command = [sys.executable, "-m", "depthbench.cli", *SWEEP, "results_dir=results"]
    proc = subprocess.Popen(
        command,
        cwd=tmp_path,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while not (store.is_dir() and results.files(store)) and time.monotonic() < deadline:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    cells_at_kill = len(results.files(store))
    assert 0 < cells_at_kill < 12  # killed midway: some cells stored, not all
    again = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert f"skipped as already stored {2 * cells_at_kill}" in again.stdout  # 2 seeds a cell
    assert run_ids_per_file(store).max() == 1  # every run stored exactly once
    pd.testing.assert_frame_equal(numbers(store), serial)


def _handles_sigterm(pid: int) -> bool:
    """Whether process ``pid`` has installed a SIGTERM handler (``/proc/<pid>/status``)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    caught = next(line for line in status.splitlines() if line.startswith("SigCgt:"))
    return bool(int(caught.split()[1], 16) & (1 << (signal.SIGTERM - 1)))


def test_a_sweep_started_in_the_background_stops_on_sigterm_with_its_job(tmp_path):
    """``nohup depthbench run -m ... &`` starts with SIGINT ignored, which its job's
    child inherits: SIGTERM to the sweep alone must still stop the child (it was sent
    SIGINT, so the sweep waited on a child that trained on)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "depthbench.cli", *SWEEP, "train.steps=1000000"],
        cwd=tmp_path,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline, children = time.monotonic() + 120, {}
    while not any(map(_handles_sigterm, children)) and time.monotonic() < deadline:
        time.sleep(0.05)
        children = descendants(proc.pid)  # the job's child, once it is training
    proc.send_signal(signal.SIGTERM)
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        for pid, start in children.items():  # the processes this test started, if alive
            if (_stat(pid) or [None] * 20)[19] == start:
                os.kill(pid, signal.SIGKILL)
        pytest.fail("the sweep did not stop within 60 s of SIGTERM")
    assert proc.returncode == 143, err
    assert "the cells it stored kept; run the same command again" in err
    assert children  # the job's child existed, and none of them outlived the sweep:
    assert not any((_stat(pid) or [None] * 20)[19] == start for pid, start in children.items())


def _stat(pid: int) -> list[str] | None:
    """Fields 3 onwards of ``/proc/<pid>/stat`` (state, ppid, ..., start time at 19)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # the process ended meanwhile
        return None


def descendants(root: int) -> dict[int, str]:
    """PID -> start time of every living process below ``root`` (this test started
    it): only those may a test signal."""
    parents = {}
    for entry in Path("/proc").glob("[0-9]*"):
        fields = _stat(int(entry.name))
        if fields:
            parents[int(entry.name)] = (int(fields[1]), fields[19])
    found: dict[int, str] = {}
    frontier = {root}
    while frontier:
        frontier = {pid for pid, (ppid, _) in parents.items() if ppid in frontier} - set(found)
        found.update({pid: parents[pid][1] for pid in frontier})
    return found


def job_process(marker: str, root: int, timeout: float = 120) -> int:
    """The PID of the watched process (:mod:`depthbench.jobproc`) of the job whose
    overrides include ``marker``, among the descendants of ``root``, as soon as it
    starts."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for pid in descendants(root):
            try:
                args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"depthbench.jobproc" in args and marker.encode() in args:
                return pid
        time.sleep(0.01)
    raise AssertionError(f"no job process with {marker} within {timeout} s")


def still_running(family: dict[int, str]) -> list[int]:
    """The processes of ``family`` (PID -> start time) that still run (zombies do not)."""
    return [
        pid
        for pid, started in family.items()
        if (fields := _stat(pid)) and fields[19] == started and fields[0] != "Z"
    ]


@pytest.mark.skipif(not Path("/proc/self/cmdline").is_file(), reason="finds processes in /proc")
# slurm_local repeats what processes checks on the same code path: slow (pytest -m slow)
@pytest.mark.parametrize(
    "launcher", ["processes", pytest.param("slurm_local", marks=pytest.mark.slow)]
)
def test_a_job_killed_by_a_signal_fails_alone_and_the_sweep_summarises(serial, tmp_path, launcher):
    """What the OOM killer does: SIGKILL to the process holding a job's tensors."""
    store = tmp_path / "results"
    command = [
        sys.executable,
        "-m",
        "depthbench.cli",
        *SWEEP,
        f"hydra/launcher={launcher}",
        "results_dir=results",
    ]
    proc = subprocess.Popen(
        command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    os.kill(job_process("task.n=4", proc.pid), signal.SIGKILL)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 1, err
    assert "sweep summary: 3 jobs, 2 done, 1 failed" in out, out + err
    assert "failed job 1 (" in out and "task.n=4" in out and "killed by SIGKILL" in out
    assert "Traceback" not in err
    stored = numbers(store)  # the siblings' rows, whole, and what the killed job had stored
    pd.testing.assert_frame_equal(stored, serial.loc[stored.index])
    by_instance = results.load(store)["task.n"].value_counts()
    assert by_instance[3] == by_instance[5] == 8 and by_instance.get(4, 0) < 8
    again = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    pd.testing.assert_frame_equal(numbers(store), serial)


@pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="finds processes in /proc")
def test_a_sweep_killed_by_sigkill_leaves_no_job_training(tmp_path):
    """SIGKILL to the sweep's own process, not its group: its job processes stop (as on
    SIGTERM), though the launcher's workers that started them may outlive it."""
    command = [
        sys.executable,
        "-m",
        "depthbench.cli",
        *SWEEP,
        "hydra/launcher=processes",
        "train.steps=1000000",  # a job outlives this test unless it is stopped
        "results_dir=results",
    ]
    proc = subprocess.Popen(
        command,
        cwd=tmp_path,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    family: dict[int, str] = {}
    try:
        job_process("task.n=3", proc.pid)
        family = descendants(proc.pid)
        jobs = {
            pid: started
            for pid, started in family.items()
            if b"depthbench.jobproc" in Path(f"/proc/{pid}/cmdline").read_bytes()
        }
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 30
        while still_running(jobs) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not still_running(jobs)
    finally:  # whatever this test started and left
        for pid in still_running(family):
            os.kill(pid, signal.SIGKILL)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)


def test_two_sweeps_into_one_dir_neither_corrupt_nor_duplicate(tmp_path):
    grid = [
        "run",
        "experiment=smoke",
        "task.n=3",
        "grid.depths=[1,2]",
        "train.steps=400",
        "train.threads=1",
        "baselines=false",
        "results_dir=results",
    ]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "depthbench.cli", *grid, f"grid.budgets={b}"],
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for b in ("[100,300]", "[300,1000]")
    ]
    for proc in procs:
        assert proc.wait(timeout=300) == 0, proc.stderr.read()
    rows = numbers(tmp_path / "results")  # raises on an unreadable file
    assert rows.index.is_unique and len(rows) == 3 * 2 * 2  # budgets x depths x seeds


def test_a_failing_job_is_reported_and_the_others_go_on(depthbench, tmp_path):
    proc = depthbench(
        "run", "-m", "experiment=smoke", "task.n=99,3", "results_dir=results", cwd=tmp_path
    )
    assert proc.returncode == 1
    assert "error: task.n: must be an integer in [2, 64], got 99" in proc.stderr
    assert "sweep summary: 2 jobs, 1 done, 1 failed" in proc.stdout
    assert "failed job 0 (experiment=smoke task.n=99 results_dir=results)" in proc.stdout
    assert set(results.load(tmp_path / "results")["task.n"]) == {3}


def test_fail_fast_stops_at_the_first_failure(depthbench, tmp_path):
    proc = depthbench(
        "run",
        "-m",
        "experiment=smoke",
        "task.n=99,3",
        "fail_fast=true",
        "results_dir=results",
        cwd=tmp_path,
    )
    assert proc.returncode == 2 and not (tmp_path / "results").exists()


def test_each_job_takes_its_own_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 4)
    assert [str(resolve_device("auto", k)) for k in range(6)] == [
        "cuda:0",
        "cuda:1",
        "cuda:2",
        "cuda:3",
        "cuda:0",
        "cuda:1",
    ]
    assert str(resolve_device("cpu", 3)) == "cpu"


def test_jobs_side_by_side_share_the_cpus(monkeypatch):
    monkeypatch.delenv("SLURM_CPUS_PER_TASK", raising=False)
    monkeypatch.setattr(job, "available_cpus", lambda: 16)
    assert job.thread_share(job.Job(parallel=4)) == 4
    assert job.thread_share(job.Job(parallel=32)) == 1
    assert job.thread_share(job.Job(cpus=3)) == 3
    assert job.thread_share(job.Job()) is None  # a lone job keeps torch's default
    monkeypatch.setenv("SLURM_CPUS_PER_TASK", "6")
    assert job.thread_share(job.Job(parallel=4)) == 6


# SIGINT takes the path SIGTERM takes once the CLI has turned it into one: slow
@pytest.mark.parametrize(
    "sig,status",
    [(signal.SIGTERM, 143), pytest.param(signal.SIGINT, 130, marks=pytest.mark.slow)],
)
def test_a_stopped_job_says_what_it_stored_and_the_same_command_resumes(tmp_path, sig, status):
    store = tmp_path / "results"
    command = [
        sys.executable,
        "-m",
        "depthbench.cli",
        "run",
        "experiment=smoke",
        "task.n=3",
        "grid.depths=[1,2]",
        "grid.budgets=[100,300,1000]",
        "train.steps=6000",  # each group long enough that the signal lands inside training
        "train.threads=1",
        "baselines=false",
        "results_dir=results",
    ]
    proc = subprocess.Popen(
        command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 120
    while not (store.is_dir() and results.files(store)) and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == status, err
    last = err.strip().splitlines()[-1]
    assert last.startswith("interrupted: ") and "run the same command again" in last
    assert "Traceback" not in err
    stored = int(last.split()[1])
    assert stored == len(results.load(store)) and 0 < stored < 12
    again = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert f"{stored} skipped as stored" in again.stdout + again.stderr
    assert len(results.load(store)) == 12
