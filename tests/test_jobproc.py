"""The watched child of a multirun job (:mod:`depthbench.jobproc`) at its edges."""

import json
import signal
import subprocess
import sys

from omegaconf import OmegaConf

from depthbench import jobproc
from depthbench.job import Job
from depthbench.sweep import RECORD


def test_a_child_killed_before_it_reads_its_config_is_a_failed_job(tmp_path, monkeypatch):
    """The OOM killer can strike before the child reads stdin: the worker's write then
    meets a closed pipe. The job must be recorded as killed, not end the sweep in a
    BrokenPipeError (seen under load in CI with submitit's local launcher)."""

    class DeadOnArrival(subprocess.Popen):
        def __init__(self, args, **kwargs):
            suicide = "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"
            super().__init__([sys.executable, "-c", suicide], **kwargs)
            self.wait()  # dead, its end of the pipe closed, before the worker writes

    monkeypatch.setattr(jobproc.subprocess, "Popen", DeadOnArrival)
    job = Job(num=1, multirun=True, output_dir=tmp_path, overrides=("task.n=4",))
    big = {"padding": "x" * 200_000}  # more than a pipe's buffer: the write itself fails
    status = jobproc.run_watched(OmegaConf.create(big), job)
    assert status == 1
    failed = json.loads((tmp_path / RECORD).read_text())["failed"]
    assert failed.startswith(f"killed by {signal.SIGKILL.name}")
