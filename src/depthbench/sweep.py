"""The sweep's summary: each job leaves ``depthbench_job.json`` in its output
directory (:func:`record`); :class:`SweepSummary` (a Hydra callback) reads them all
when the sweep ends and prints one summary.
"""

from __future__ import annotations

import json
import shlex
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd
from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from depthbench.job import Job

RECORD = "depthbench_job.json"


def report_hint(results_dirs: list[str]) -> str:
    """Where a run's rows are, and the command that reads them (shell-quoted: a path
    with a space or a quote pastes as one argument), into ``local-reports/`` (git-ignored:
    never over a committed report)."""
    dirs = " ".join(shlex.quote(d) for d in dict.fromkeys(results_dirs))
    out = shlex.quote(f"local-reports/{Path(results_dirs[0]).name}")
    return f"rows are in {dirs}; read them with: depthbench report {dirs} --out {out}"


def record(
    job: Job,
    rows: pd.DataFrame | None = None,
    error: str | None = None,
    results_dir: str | None = None,
) -> None:
    """Leave the job's outcome (and where it stored its rows) in its output directory
    for :class:`SweepSummary`."""
    if job.output_dir is None:
        return
    counts = Counter(rows["status"]) if rows is not None else Counter()
    skipped = rows.attrs.get("skipped", 0) if rows is not None else 0
    job.output_dir.mkdir(parents=True, exist_ok=True)
    (job.output_dir / RECORD).write_text(
        json.dumps(
            {
                "num": job.num,
                "overrides": list(job.overrides),
                "failed": error,
                "rows": dict(counts),
                "skipped": skipped,
                "results_dir": results_dir,
            }
        )
    )


def summarize(records: list[dict[str, Any]]) -> str:
    """The end-of-sweep summary of the jobs' records."""
    failed = [r for r in records if r["failed"]]
    rows: Counter = Counter()
    for r in records:
        rows.update(r["rows"])
    lines = [
        f"sweep summary: {len(records)} jobs, {len(records) - len(failed)} done, "
        f"{len(failed)} failed",
        f"  rows written: ok {rows['ok']}, diverged {rows['diverged']}, infeasible "
        f"{rows['infeasible']}, constructed {rows['constructed']}, baseline {rows['baseline']}; "
        "skipped as already stored "
        f"{sum(r['skipped'] for r in records)}",
    ]
    lines += [
        f"  failed job {r['num']} ({' '.join(r['overrides'])}): {r['failed']}"
        for r in sorted(failed, key=lambda r: r["num"])
    ]
    return "\n".join(lines)


class SweepSummary(Callback):
    """Prints :func:`summarize` when a multirun ends, and exits with status 1 when a
    job failed (the other jobs ran to the end unless ``fail_fast=true``)."""

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        for stale in Path(config.hydra.sweep.dir).glob(f"*/{RECORD}"):  # a reused sweep dir
            stale.unlink()

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        records = [
            json.loads(p.read_text())
            for p in sorted(Path(config.hydra.sweep.dir).glob(f"*/{RECORD}"))
        ]
        if not records:
            return
        print(summarize(records), flush=True)
        stored = [r["results_dir"] for r in records if r.get("results_dir") and not r["failed"]]
        if stored:
            from depthbench.report import headline

            headline.show(stored)
            print(report_hint(stored), flush=True)
        if any(r["failed"] for r in records):
            raise SystemExit(1)
