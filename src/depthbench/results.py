"""The results store: one Parquet file per cell and write, rows keyed by ``run_id``.

Files are written to a temporary name unique to the writer (host, PID and a random
token), under an advisory lock (``flock``) the writer holds until it has renamed the
file into place (``os.replace`` is atomic on POSIX), so a killed process leaves at
most a ``.*.tmp`` file that :func:`load` never reads and :func:`clean_stale` removes
once no process holds its lock: the kernel releases a dead writer's lock, whatever
PID namespace (container) it ran in. File names hash the cell and the
runs inside, so concurrent jobs never write the same file with different content; a
file that is not this store's own (foreign, damaged, of another schema version) is
never replaced: the new rows go beside it. Every file carries the store's marker in
its Parquet key-value metadata and page checksums; :func:`load` reads only marked
files with every column, verifies the checksums, and refuses two rows that share a
``run_id`` but disagree in their outcome.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import socket
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from depthbench import schema
from depthbench.errors import ResultsError
from depthbench.schema import COLUMNS, SCHEMA_VERSION

MARKER = b"depthbench.results"  # Parquet key-value metadata: the store's own files


def write(rows: pd.DataFrame, results_dir: Path, name: str) -> Path:
    """Write ``rows`` atomically to ``results_dir/<name>.parquet`` (beside it, under a
    new name, if a file there holds anything but these rows); returns the path. Rows
    whose columns do not match :data:`depthbench.schema.SCHEMA` (a column missing, or
    of another type) raise ``ValueError`` before anything is written."""
    table = pa.Table.from_pandas(rows, preserve_index=False)
    schema.check(table.schema)
    results_dir.mkdir(parents=True, exist_ok=True)
    table = table.replace_schema_metadata(
        {**(table.schema.metadata or {}), MARKER: str(SCHEMA_VERSION).encode()}
    )
    final = results_dir / f"{name}.parquet"
    if final.exists() and not _holds(final, set(rows["run_id"])):
        final = results_dir / f"{name}-{secrets.token_hex(4)}.parquet"
    with _locked_temporary(results_dir, name) as (tmp, fh):
        pq.write_table(table, fh, write_page_checksum=True)
        fh.flush()
        os.fsync(fh.fileno())
        os.replace(tmp, final)
    return final


@contextmanager
def _locked_temporary(results_dir: Path, name: str) -> Iterator[tuple[Path, BinaryIO]]:
    """A new temporary file under ``results_dir`` and its open handle, locked
    (``flock``) while the block runs. A cleaner that removed it between its creation and
    the lock (it found the lock free) makes this start again under a new name."""
    while True:
        tmp = results_dir / (
            f".{name}.{socket.gethostname()}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
        )
        with open(tmp, "xb") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            if _same_file(tmp, fh.fileno()):
                yield tmp, fh
                return


def _same_file(path: Path, fd: int) -> bool:
    """Whether ``path`` still names the file open as ``fd``."""
    try:
        return os.stat(path).st_ino == os.fstat(fd).st_ino
    except FileNotFoundError:
        return False


def _holds(path: Path, run_ids: set[str]) -> bool:
    """Whether ``path`` is a readable store file of this version holding exactly ``run_ids``
    (then replacing it loses nothing)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = _read(path, columns=["run_id"])
    return frame is not None and set(frame["run_id"]) == run_ids


def clean_stale(results_dir: Path) -> list[Path]:
    """Remove the temporary files of dead writers on this host (a writer killed between
    writing and renaming leaves one): those named for this host whose lock no process
    holds. A live writer holds its lock whatever its PID namespace; a file of another
    host (a shared volume, where locks may not reach) is left alone. Returns those
    removed."""
    host, removed = socket.gethostname(), []
    for tmp in results_dir.glob(".*.tmp") if results_dir.is_dir() else []:
        parts = tmp.name.split(".")  # "", name, host..., pid, token, "tmp"
        if len(parts) < 6 or not parts[-3].isdigit() or ".".join(parts[2:-3]) != host:
            continue
        if _remove_if_unlocked(tmp):
            removed.append(tmp)
    return removed


def _remove_if_unlocked(tmp: Path) -> bool:
    """Remove ``tmp`` if no process holds its lock (taking the lock meanwhile, so no
    writer can start on it); whether it was removed."""
    try:
        fd = os.open(tmp, os.O_RDONLY)
    except OSError:  # gone already, or not ours to read
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:  # a live writer holds it
        os.close(fd)
        return False
    try:
        if not _same_file(tmp, fd):
            return False
        tmp.unlink()
        return True
    finally:
        os.close(fd)


def files(results_dir: Path) -> list[Path]:
    """Result files under ``results_dir`` (temporary files excluded), sorted."""
    return sorted(p for p in results_dir.rglob("*.parquet") if not p.name.startswith("."))


def _read(
    path: Path, columns: list[str] | None = None, refuse_versions: bool = False
) -> pd.DataFrame | None:
    """One result file, or ``None`` with a warning naming it when unreadable, corrupt
    (a page checksum fails), foreign (no store marker, or columns missing) or of another
    schema version (:class:`ResultsError` for the last when ``refuse_versions``). A file
    of an older version in :data:`~depthbench.schema.UPGRADES` reads with the columns
    added since filled."""
    try:
        found = pq.read_schema(path)
    except Exception as exc:  # pyarrow raises several types for corrupt files
        warnings.warn(f"skipping {path}: not a readable Parquet file ({exc})", stacklevel=3)
        return None
    names, meta = found.names, found.metadata or {}
    version = meta.get(MARKER)
    if version is None and "schema_version" in names and "run_id" in names:
        version = _old_version(path)  # written before the marker: say which version it is
    if version is None:
        warnings.warn(
            f"skipping {path}: not a depthbench results file (no store marker)", stacklevel=3
        )
        return None
    added = next((v for k, v in schema.UPGRADES.items() if version == str(k).encode()), {})
    if version != str(SCHEMA_VERSION).encode() and not added:
        problem = (
            f"{path} was written with schema_version {version.decode()}; this "
            f"depthbench reads {SCHEMA_VERSION} (rerun its job into a new results_dir, or "
            f"read it with the depthbench version that wrote it)"
        )
        if refuse_versions:
            raise ResultsError(problem)
        warnings.warn(f"skipping {problem}", stacklevel=3)
        return None
    missing = [c for c in COLUMNS if c not in names and c not in added]
    if missing:
        warnings.warn(
            f"skipping {path}: not a depthbench results file (lacks {missing})", stacklevel=3
        )
        return None
    try:
        wanted = [c for c in columns if c in names] if columns and added else columns
        if wanted is not None and any(callable(added.get(c)) for c in wanted):
            reads = [c for c in schema.UPGRADE_READS if c in names]
            wanted = list(dict.fromkeys([*wanted, *reads]))
        table = pq.read_table(path, columns=wanted, page_checksum_verification=True)
        frame = table.to_pandas()
    except Exception as exc:
        warnings.warn(f"skipping {path}: corrupt ({exc})", stacklevel=3)
        return None
    # e.g. a version-3 file predates the best-effort fit: every row is a default one
    for column, value in added.items():
        if columns is None or column in columns:
            frame[column] = value(frame) if callable(value) else value
    return frame if columns is None else frame[[c for c in columns if c in frame]]


def _old_version(path: Path) -> bytes | None:
    """The ``schema_version`` of an unmarked file that has the column (versions 1-2 were
    written without a marker); ``None`` for a file that claims the current version
    without the marker (a derived table, not the store's)."""
    try:
        versions = pq.read_table(path, columns=["schema_version"]).column(0).to_pylist()
    except Exception:
        return None
    found = sorted({str(v) for v in versions})
    if not found or str(SCHEMA_VERSION) in found:
        return None
    return ", ".join(found).encode()


OUTCOME_CHECKED = ["status", "train_loss", "val_metric", "test_metric"]
AGREE = {"rtol": 1e-3, "atol": 1e-6}  # float32 rounding between devices agrees to this


def _conflicts(df: pd.DataFrame) -> list[str]:
    """``run_id``s stored more than once with outcomes that disagree (status, or the
    losses and metrics beyond :data:`AGREE`), each with the files holding it."""
    dup = df[df.duplicated("run_id", keep=False)]
    found = []
    for run_id, rows in dup.groupby("run_id"):
        first = rows.iloc[0]
        for _, other in rows.iloc[1:].iterrows():
            same = other["status"] == first["status"] and all(
                np.isclose(float(other[c]), float(first[c]), equal_nan=True, **AGREE)
                for c in OUTCOME_CHECKED[1:]
            )
            if not same:
                found.append(f"{run_id} in {first['_file']} and {other['_file']}")
    return found


def load(
    paths: Path | str | Iterable[Path | str],
    refuse_versions: bool = False,
    conflicts: str = "refuse",
) -> pd.DataFrame:
    """All result rows under one or more results directories, one row per ``run_id``.

    Unreadable, corrupt or foreign files are skipped with a warning that names them,
    and so are files of another ``schema_version`` unless ``refuse_versions``: then
    they raise :class:`ResultsError` (a report must not mix incompatible rows). Rows
    that share a ``run_id`` but disagree in their outcome raise :class:`ResultsError`
    naming both files (``conflicts="warn"``: a warning, and the row of the earliest
    file kept). Duplicates that agree keep the earliest-created row; the result is
    sorted by ``run_id``, so the order of ``paths`` does not matter. Raises
    :class:`ResultsError` when a directory does not exist.
    """
    dirs = [Path(paths)] if isinstance(paths, (str, Path)) else [Path(p) for p in paths]
    frames = []
    for d in dirs:
        if not d.is_dir():
            raise ResultsError(f"results directory {d} does not exist")
        for p in files(d):
            frame = _read(p, refuse_versions=refuse_versions)
            if frame is not None:
                frames.append(frame.assign(_file=str(p)))
    if not frames:
        return pd.DataFrame(columns=COLUMNS)
    df = pd.concat(frames, ignore_index=True).sort_values(["run_id", "created_at", "_file"])
    clashes = _conflicts(df)
    if clashes:
        message = (
            f"{len(clashes)} run_id(s) stored with different outcomes, e.g. "
            f"{'; '.join(clashes[:3])}: results of different code, data or devices "
            "are mixed; keep them in separate results directories"
        )
        if conflicts == "refuse":
            raise ResultsError(message)
        warnings.warn(message, stacklevel=2)
    df = df.drop_duplicates("run_id", keep="first").drop(columns="_file")
    return df.reset_index(drop=True)


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
