"""``depthbench ls``: what a results store holds, read from its rows without building a
report: one block per training protocol (:data:`PROTOCOL_KEYS`), and in it one entry
per task instance and model with its rows by status, the grid it covers (cells, depths,
budgets, seeds, learning rates, n_train), where and when it ran, and what to look at
(unconverged and diverged members, cells whose chosen rate is at the edge of the
rates tried).
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from depthbench import results, schema
from depthbench.config import ONLINE
from depthbench.errors import ResultsError
from depthbench.schema import BASIN, STATUSES, UNTRAINED, basin_noise

#: what defines how a row's model was trained: rows may be pooled (one report, one
#: comparison) only where all of these agree. They are the columns of
#: :func:`protocols`, which derives them from the stored rows: ``kind`` (``trained``:
#: the grid's rows, ok, diverged or infeasible; ``untrained``: constructions and
#: baselines; ``refit`` and ``basin``: the best-effort fit's stages and the
#: constructions' basins), ``protocol`` (the stored column, a basin's noise scale
#: written ``s``: the scale is the basin's axis, not its protocol), then
#: :data:`depthbench.schema.PROTOCOL_KEYS`, stored columns as they are but ``steps``:
#: the steps a member was to take (the stored ``steps`` counts those taken, fewer for a
#: member that diverged or stopped at ``train.stop_loss``). ``schedule`` names the
#: warm-up and final rate; the ``train.`` optimiser columns read as plain Adam in rows
#: written before they were recorded (:data:`OPTIMIZER_DEFAULTS`). ``train.init`` is
#: not stored in rows (only hashed into ``cell_id``), so it cannot be told apart here.
PROTOCOL_KEYS = ("kind", "protocol", *schema.PROTOCOL_KEYS)
#: the optimiser columns' values in rows written before they were recorded
OPTIMIZER_DEFAULTS = {
    "train.optimizer": "adam",
    "train.momentum": 0.0,
    "train.weight_decay": 0.0,
    "train.stop_loss": None,
}
#: how :func:`protocols` writes a value that does not apply (an untrained row's steps)
MISSING = "-"
#: the ``kind`` of each status (:data:`PROTOCOL_KEYS`)
KINDS = {
    **{s: "trained" for s in ("ok", "diverged", "infeasible")},
    **{s: "untrained" for s in UNTRAINED if s != BASIN},
    "refit": "refit",
    BASIN: "basin",
}
#: the order of the kinds' blocks in a listing
KIND_ORDER = ("trained", "refit", "untrained", "basin")
#: a basin row's noise scale in its protocol (:func:`~depthbench.schema.basin_protocol`)
_BASIN_NOISE = re.compile(r"^(construction \+ noise )[0-9.e+-]+( x layer RMS)")
WIDTH = 100


def _text(value: object) -> str:
    """``value`` as :func:`protocols` writes it: :data:`MISSING` for null, floats to 12
    significant digits (so ``0.0`` and ``0`` agree)."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return MISSING
    if isinstance(value, float):
        return f"{value:.12g}"
    return str(value)


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Every value of ``frame`` as :func:`_text` writes it."""
    return pd.DataFrame({c: frame[c].map(_text) for c in frame.columns}, index=frame.index)


def _planned_steps(rows: pd.DataFrame) -> pd.Series:
    """The steps each row's member was to take: the last checkpoint of its loss curve
    (recorded for every trained member), else ``steps`` for ok rows of stores without
    curves, else null (untrained, polished or infeasible rows)."""
    last = rows["loss_steps"].map(lambda s: s[-1] if s is not None and len(s) else None)
    stored = rows["steps"].where(rows["status"] == "ok")
    return last.fillna(stored).astype("Int64")


def _fill_infeasible_steps(keys: pd.DataFrame) -> pd.DataFrame:
    """An infeasible row trains nothing, so records no steps: it takes the steps of the
    rows that agree with it in every other key, where those have one value."""
    others = [k for k in PROTOCOL_KEYS if k != "steps"]
    for index in keys.groupby(others).groups.values():
        steps = set(keys.loc[index, "steps"]) - {MISSING}
        if len(steps) == 1:
            keys.loc[index, "steps"] = steps.pop()
    return keys


def protocols(rows: pd.DataFrame) -> pd.DataFrame:
    """Each row's protocol: the columns :data:`PROTOCOL_KEYS` as text (:data:`MISSING`
    where one does not apply), indexed as ``rows``. Two rows were trained alike where
    these agree."""
    filled = rows.assign(
        kind=rows["status"].map(KINDS),
        protocol=rows["protocol"].str.replace(_BASIN_NOISE, r"\1s\2", regex=True),
        steps=_planned_steps(rows),
    )
    for column, default in OPTIMIZER_DEFAULTS.items():
        if column not in filled:
            filled[column] = default
    return _fill_infeasible_steps(_as_text(filled[list(PROTOCOL_KEYS)]))


def _values(series: pd.Series, show: Callable[[Any], str] = str, limit: int = 6) -> str:
    """The distinct non-null values, sorted, each as ``show`` writes it: listed, or
    ``min..max (n)`` beyond ``limit``; :data:`MISSING` when there are none."""
    found = sorted(series.dropna().unique())
    if not found:
        return MISSING
    shown = [show(v) for v in found]
    return ", ".join(shown) if len(shown) <= limit else f"{shown[0]}..{shown[-1]} ({len(shown)})"


def _label(values: pd.Series) -> str:
    """A task instance or model and its parameters, e.g. ``product n=4 low=-1 high=1``
    (``values``: its name, then each parameter's column, as :func:`_text` writes them)."""
    name, params = values.iloc[0], values.iloc[1:]
    said = [f"{str(k).split('.', 1)[1]}={v}" for k, v in params.items() if v != MISSING]
    return " ".join([name, *said])


def _sort_key(value: object) -> tuple[int, float, str]:
    """Numbers in numeric order, then text, then null."""
    if pd.isna(value):  # type: ignore[call-overload]
        return (2, 0.0, "")
    if isinstance(value, (int, float, np.number)):
        return (0, float(value), "")
    return (1, 0.0, str(value))


def _instances(rows: pd.DataFrame, column: str) -> pd.Series:
    """Per row: its task instance (``column="task"``) or model, with their parameters;
    categorical, ordered by the parameters' values (``n=2`` before ``n=10``)."""
    columns = [column, *(c for c in rows.columns if c.startswith(f"{column}."))]
    unique = rows[columns].drop_duplicates()
    ordered = sorted(unique.itertuples(index=False), key=lambda t: [_sort_key(v) for v in t])
    text = _as_text(pd.DataFrame(ordered, columns=columns)).drop_duplicates()
    labelled = text.assign(label=text.apply(_label, axis=1))
    found = _as_text(rows[columns]).merge(labelled, how="left", on=columns)["label"]
    categories = labelled["label"].drop_duplicates()
    return pd.Series(pd.Categorical(found, categories, ordered=True), index=rows.index)


def _edge_cells(rows: pd.DataFrame) -> int:
    """Cells whose chosen rate (lowest mean ``val_metric`` over their seeds, a diverged
    member at chance) is the smallest or largest of two or more tried."""
    members = rows[rows["status"].isin(("ok", "diverged"))]
    if members.empty:
        return 0
    val = members["val_metric"].where(members["status"] == "ok", members["chance"])
    by_lr = members.assign(val=val).groupby(["cell_id", "lr"])["val"].mean().reset_index()
    best = by_lr.sort_values(["cell_id", "val", "lr"]).groupby("cell_id")["lr"].first()
    span = by_lr.groupby("cell_id")["lr"].agg(["min", "max", "count"])
    edge = (span["count"] >= 2) & ((best == span["min"]) | (best == span["max"]))
    return int(edge.sum())


def _counts(rows: pd.DataFrame) -> str:
    """The number of rows, and their statuses (each with its count where there are
    several), in :data:`~depthbench.schema.STATUSES` order."""
    counts = rows["status"].value_counts()
    said = ", ".join(f"{s} {counts[s]}" if len(counts) > 1 else s for s in STATUSES if s in counts)
    return f"{len(rows)} row{'s' if len(rows) > 1 else ''} ({said})"


def _n_train(n: int) -> str:
    """A training-set size, ``online`` for :data:`~depthbench.config.ONLINE`."""
    return "online" if n == ONLINE else str(n)


def _grid(rows: pd.DataFrame) -> str:
    """The cells, depths, budgets, seeds, rates, training-set sizes and basin noise
    scales rows cover."""
    basins = rows.loc[rows["status"] == BASIN, "protocol"]
    fields = [
        ("cells", str(rows["cell_id"].nunique())),
        ("depths", _values(rows["depth"])),
        ("budgets", _values(rows["budget"], limit=2)),
        ("seeds", _values(rows["seed"])),
        ("lrs", _values(rows["lr"], lambda lr: f"{lr:g}", limit=2)),
        ("n_train", _values(rows["n_train"], _n_train, limit=4)),
        ("noise", _values(basins.map(basin_noise), lambda s: f"{s:g}")),
    ]
    return "; ".join(f"{k} {v}" for k, v in fields if v != MISSING)


def _provenance(rows: pd.DataFrame) -> str:
    """Commits (short, ``+dirty`` with uncommitted changes), devices, first-last date."""
    commits = rows["git_sha"].str[:7] + rows["git_dirty"].map({True: "+dirty"}).fillna("")
    devices = rows["device"] + " (" + rows["device_name"] + ")"
    created = rows["created_at"].str[:16].str.replace("T", " ")
    first, last = created.min(), created.max()
    dates = first if first == last else f"{first}..{last.removeprefix(first[:11])}"
    return f"commits {_values(commits)}; devices {_values(devices)}; created {dates}"


def _flags(rows: pd.DataFrame) -> str:
    """Unconverged and diverged members, cells whose chosen rate is at an edge."""
    flags = [
        (int((rows["converged"] == False).sum()), "unconverged"),  # noqa: E712 (nullable)
        (int((rows["status"] == "diverged").sum()), "diverged"),
        (_edge_cells(rows), f"of {rows['cell_id'].nunique()} cells chose an lr at an edge"),
    ]
    said = [f"{n} {what}" for n, what in flags if n]
    return f"flags: {'; '.join(said)}" if said else ""


def _entry(label: str, rows: pd.DataFrame) -> list[str]:
    """The lines of one model of a task instance: its rows, grid and flags."""
    flags = _flags(rows)
    head = _wrap(f"{label}: {_counts(rows)}; {_grid(rows)}", "    ")
    return [head, _wrap(flags, "        ")] if flags else [head]


def _instance(label: str, rows: pd.DataFrame, models: pd.Series) -> list[str]:
    """The lines of one task instance (``models``: each row's model): where and when it
    ran, then each model's entry."""
    lines = [_wrap(f"{label}: {_provenance(rows)}", "  ")]
    for model, entry in rows.groupby(models, observed=True):
        lines += _entry(str(model), entry)
    return lines


def _wrap(text: str, indent: str) -> str:
    """``text`` wrapped to :data:`WIDTH` columns, every line indented."""
    return textwrap.fill(
        text,
        WIDTH,
        initial_indent=indent,
        subsequent_indent=indent + "    ",
        break_on_hyphens=False,
    )


def _pairs(key: pd.Series) -> str:
    """``name value`` of each protocol key in ``key``."""
    return ", ".join(f"{k} {v}" for k, v in key.items())


def _differing(keys: pd.DataFrame) -> list[str]:
    """The protocol keys whose value differs between rows."""
    return [k for k in PROTOCOL_KEYS if keys[k].nunique() > 1]


def _in_order(column: pd.Series) -> pd.Series:
    """Sort key of a protocol column: kinds in :data:`KIND_ORDER`, others as text."""
    return column.map(KIND_ORDER.index) if column.name == "kind" else column


def _blocks(rows: pd.DataFrame, keys: pd.DataFrame) -> Iterable[str]:
    """The keys every row shares, then one block per protocol: the keys that differ,
    and an entry per task instance and model."""
    differ = _differing(keys)
    yield _wrap(
        f"{'every protocol' if differ else 'protocol'}: {_pairs(keys.iloc[0].drop(differ))}", ""
    )
    distinct = keys.drop_duplicates().sort_values(list(PROTOCOL_KEYS), key=_in_order)
    tasks, models = _instances(rows, "task"), _instances(rows, "model")
    for number, (_, key) in enumerate(distinct.iterrows(), 1):
        inside = (keys == key).all(axis=1)
        if differ:
            yield _wrap(f"protocol {number} of {len(distinct)}: {_pairs(key[differ])}", "")
        for label, instance in rows[inside].groupby(tasks[inside], observed=True):
            yield from _instance(str(label), instance, models[instance.index])


def _describe_one(results_dir: Path) -> str:
    """The listing of one results directory."""
    rows = results.load(results_dir, conflicts="warn")
    if rows.empty:
        raise ResultsError(f"results directory {results_dir} holds no readable result rows")
    keys = protocols(rows)
    differ = _differing(keys)
    count = len(keys.drop_duplicates())
    summary = f"{results_dir}: {len(rows)} rows in {len(results.files(results_dir))} file(s); "
    summary += f"{count} protocol(s)" + (f", differing in {', '.join(differ)}" if differ else "")
    return "\n".join([_wrap(summary, ""), *_blocks(rows, keys)])


def describe(dirs: list[Path]) -> str:
    """What each results directory in ``dirs`` holds, as text (see the module doc).

    Raises :class:`~depthbench.errors.ResultsError` for a directory that does not exist
    or holds no readable rows.
    """
    return "\n\n".join(_describe_one(Path(d)) for d in dirs)
