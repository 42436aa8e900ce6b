"""The results store: one Parquet file per cell and write, rows keyed by ``run_id``.

Files are written to a hidden temporary name and renamed into place
(``os.replace`` is atomic on POSIX), so a killed process leaves at most a
``.*.tmp`` file that :func:`load` never reads. File names hash the cell and the
runs inside, so concurrent jobs never write the same file with different content.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from depthbench.errors import ResultsError

SCHEMA_VERSION = 3  # 2: the chance column; 3: validation split, schedules, loss curves, baselines, eps

IDENTITY = ["task", "model", "depth", "width", "budget", "n_params", "n_hidden", "scale", "ridge",
            "n_train", "n_val", "n_test", "seed", "lr", "schedule", "batch_size", "data_seed"]
OUTCOME = ["train_loss", "val_loss", "val_metric", "test_loss", "test_metric", "bayes_metric",
           "chance", "status", "reason", "steps", "converged", "loss_steps", "loss_curve",
           "eps", "eps_scale"]
COST = ["train_time_s", "eval_time_s", "flops", "group_size"]
PROVENANCE = ["cell_id", "run_id", "schema_version", "git_sha", "git_dirty", "package_version",
              "torch_version", "python_version", "device", "device_name", "created_at"]
COLUMNS = IDENTITY + OUTCOME + COST + PROVENANCE  # plus task.*, theory.* and model.* columns
STATUSES = ("ok", "diverged", "infeasible", "constructed", "baseline")


def write(rows: pd.DataFrame, results_dir: Path, name: str) -> Path:
    """Write ``rows`` atomically to ``results_dir/<name>.parquet``."""
    missing = [c for c in COLUMNS if c not in rows.columns]
    if missing:
        raise ValueError(f"rows lack result columns {missing}")
    results_dir.mkdir(parents=True, exist_ok=True)
    final = results_dir / f"{name}.parquet"
    tmp = results_dir / f".{name}.{os.getpid()}.tmp"
    with open(tmp, "wb") as fh:
        rows.to_parquet(fh, index=False)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, final)
    return final


def files(results_dir: Path) -> list[Path]:
    """Result files under ``results_dir`` (temporary files excluded), sorted."""
    return sorted(p for p in results_dir.rglob("*.parquet") if not p.name.startswith("."))


def _read(path: Path, columns: list[str] | None = None, refuse_versions: bool = False
          ) -> pd.DataFrame | None:
    """One result file, or ``None`` with a warning naming it when unreadable, foreign or
    of another schema version (:class:`ResultsError` for the last when
    ``refuse_versions``)."""
    try:
        names = pq.read_schema(path).names
    except Exception as exc:  # pyarrow raises several types for corrupt files
        warnings.warn(f"skipping {path}: not a readable Parquet file ({exc})", stacklevel=3)
        return None
    if "schema_version" not in names or "run_id" not in names:
        warnings.warn(f"skipping {path}: not a depthbench results file", stacklevel=3)
        return None
    try:  # one read: the columns asked for and the version that decides whether to use them
        wanted = None if columns is None else list(dict.fromkeys([*columns, "schema_version"]))
        frame = pd.read_parquet(path, columns=wanted)
    except Exception as exc:
        warnings.warn(f"skipping {path}: unreadable ({exc})", stacklevel=3)
        return None
    versions = frame["schema_version"].unique()
    if list(versions) != [SCHEMA_VERSION]:
        problem = (f"{path} was written with schema_version {', '.join(map(str, versions))}; this "
                   f"depthbench reads {SCHEMA_VERSION} (rerun its job into a new results_dir, or "
                   f"read it with the depthbench version that wrote it)")
        if refuse_versions:
            raise ResultsError(problem)
        warnings.warn(f"skipping {problem}", stacklevel=3)
        return None
    return frame if columns is None else frame[columns]


def load(paths: Path | str | Iterable[Path | str], refuse_versions: bool = False) -> pd.DataFrame:
    """All result rows under one or more results directories, one row per ``run_id``.

    Unreadable or foreign files are skipped with a warning that names them, and so
    are files of another ``schema_version`` unless ``refuse_versions``: then they
    raise :class:`ResultsError` (a report must not mix incompatible rows). Raises
    :class:`ResultsError` when a directory does not exist.
    """
    dirs = [Path(paths)] if isinstance(paths, (str, Path)) else [Path(p) for p in paths]
    frames = []
    for d in dirs:
        if not d.is_dir():
            raise ResultsError(f"results directory {d} does not exist")
        frames += [f for f in (_read(p, refuse_versions=refuse_versions) for p in files(d))
                   if f is not None]
    if not frames:
        return pd.DataFrame(columns=COLUMNS)
    df = pd.concat(frames, ignore_index=True)
    return df.drop_duplicates("run_id", keep="first").reset_index(drop=True)


def stored_run_ids(results_dir: Path) -> set[str]:
    """``run_id`` of every readable stored row: what a rerun may skip."""
    if not results_dir.is_dir():
        return set()
    ids: set[str] = set()
    for path in files(results_dir):
        frame = _read(path, columns=["run_id"])
        if frame is not None:
            ids.update(frame["run_id"])
    return ids
