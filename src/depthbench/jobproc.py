"""A multirun job's work in a child process that the launcher's worker watches.

A launcher worker that dies takes more than its job with it: joblib aborts the whole
sweep at its first dead worker (siblings killed mid-grid, queued jobs never run, no
summary), and submitit's local executor ends in a traceback. So in a multirun each
job trains in a child process, ``python -m depthbench.jobproc <overrides>`` (the
overrides only name it in ``ps`` and ``top``; it reads its config on stdin), marked
as the OOM killer's first choice, while the worker waits on it. A child killed by a
signal is recorded as a failed job for :class:`depthbench.sweep.SweepSummary`; the
worker lives on and the launcher runs the other jobs. The cells the child stored
are whole (files are renamed into place), so the same command resumes the job.
The child stops as SIGTERM does when its worker or the sweep's own process
(:func:`mark_sweep`) dies, so a killed sweep leaves no training behind it.
"""

from __future__ import annotations

import json
import logging.config
import os
import signal
import socket
import subprocess
import sys
import threading
from dataclasses import asdict
from pathlib import Path
from typing import Any

from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from depthbench.job import Job
from depthbench.jobrun import execute, interruptible
from depthbench.sweep import RECORD, record

# seconds a stopped worker gives its child to stop on the signal it got too (a
# terminal's Ctrl-C reaches the whole process group) before sending it SIGTERM
GRACE_S = 2.0
# seconds between the child's checks that the worker waiting on it is alive
WATCH_S = 1.0
# "host pid start-time" of the process that ``depthbench run`` started (the sweep's)
SWEEP_ENV = "DEPTHBENCH_SWEEP"


def mark_sweep() -> None:
    """Name this process as the sweep's, for its job processes (:func:`main`) to
    watch, whichever launcher's workers start them: a joblib worker outlives a
    SIGKILL-ed sweep by the jobs it still holds."""
    os.environ[SWEEP_ENV] = f"{socket.gethostname()} {os.getpid()} {_started(os.getpid())}"


def _started(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks since boot, ``/proc/<pid>/stat``
    field 22), which tells it apart from a later process given the same PID; None if
    it is gone or there is no ``/proc``."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def _sweep_alive() -> bool:
    """Whether the sweep's process (:func:`mark_sweep`) still runs; True where there is
    none to watch (another host, as under SLURM; no ``/proc``)."""
    host, pid, started = (os.environ.get(SWEEP_ENV) or "- 0 None").split()
    if host != socket.gethostname() or started == "None":
        return True
    return _started(int(pid)) == started


def run_watched(cfg: DictConfig, job: Job) -> int:
    """Run ``job`` in a child process and wait; its exit status (0 done, 2 bad input,
    1 an unexpected error or a death by a signal, 130 or 143 stopped). An end the
    child could not record (a signal) is recorded here. A stop of the worker
    (KeyboardInterrupt) is passed on to the child, which stores what it trained,
    before it is raised again with a message."""
    spec = {
        "config": OmegaConf.to_container(cfg, resolve=True),
        "job": {**asdict(job), "output_dir": str(job.output_dir) if job.output_dir else None},
        "logging": _job_logging(),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "depthbench.jobproc", *job.overrides],
        stdin=subprocess.PIPE,
        text=True,
    )
    try:
        _send(proc, json.dumps(spec))
        status = proc.wait()
    except KeyboardInterrupt:
        _stop(proc)
        raise KeyboardInterrupt(
            f"interrupted: job {job.num} of the sweep stopped, with the "
            "cells it stored kept; run the same command again to train "
            "the rest"
        ) from None
    recorded = job.output_dir is not None and (job.output_dir / RECORD).is_file()
    if status < 0 or (status and not recorded):
        cause = (
            f"killed by {signal.Signals(-status).name}"
            if status < 0
            else f"its process exited with status {status}"
        )
        if status == -signal.SIGKILL:
            cause += " (what the OOM killer sends when memory runs out)"
        message = f"{cause}; the cells it stored are kept and the same command trains the rest"
        print(f"error: job {job.num} {message}", file=sys.stderr, flush=True)
        record(job, error=message)
    return 1 if status < 0 else status


def _send(proc: subprocess.Popen, text: str) -> None:
    """Write ``text`` to the child's stdin and close it. A child killed before it read
    its config (the OOM killer at start-up) closed the pipe: its exit status, not a
    BrokenPipeError in the worker, says what happened."""
    assert proc.stdin is not None
    try:
        proc.stdin.write(text)
    except BrokenPipeError:
        pass
    try:
        proc.stdin.close()
    except BrokenPipeError:
        pass


def _job_logging() -> dict[str, Any] | None:
    """Hydra's logging config of the running job (its console and log file), resolved."""
    if not HydraConfig.initialized():
        return None
    return OmegaConf.to_container(HydraConfig.get().job_logging, resolve=True)  # type: ignore[return-value]


def _stop(proc: subprocess.Popen) -> None:
    """Let the child stop on the signal it shares with the worker; else send SIGTERM,
    which the child always handles (:func:`depthbench.jobrun.interruptible`): a sweep
    started in the background (``nohup ... &``) passes SIGINT on ignored, so SIGINT
    would leave the child training and this worker waiting on it."""
    try:
        proc.wait(timeout=GRACE_S)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGTERM)
        proc.wait()


def _first_choice_of_oom_killer() -> None:
    """Out of memory, the kernel kills this process (the one holding the tensors)
    rather than the launcher's worker; Linux only, a no-op elsewhere."""
    try:
        Path("/proc/self/oom_score_adj").write_text("1000")
    except OSError:
        pass


def _stop_when_orphaned() -> None:
    """Stop as SIGTERM does (storing what is trained) if the worker waiting on this
    process or the sweep's process dies, so a killed sweep leaves no training behind it."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent and _sweep_alive():
            threading.Event().wait(WATCH_S)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, daemon=True).start()


def main() -> int:
    """The child: read the job's spec on stdin, run it as :func:`depthbench.jobrun.execute`."""
    spec = json.load(sys.stdin)
    if spec["logging"]:
        logging.config.dictConfig(spec["logging"])
    _first_choice_of_oom_killer()
    _stop_when_orphaned()
    fields = spec["job"]
    job = Job(
        **{
            **fields,
            "overrides": tuple(fields["overrides"]),
            "output_dir": Path(fields["output_dir"]) if fields["output_dir"] else None,
        }
    )
    cfg = OmegaConf.create(spec["config"])
    return interruptible(lambda: execute(cfg, job))


if __name__ == "__main__":
    sys.exit(main())
