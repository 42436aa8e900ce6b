"""Analysis of stored result rows, pure pandas/numpy: :func:`analyze` turns the rows
of :func:`depthbench.results.load` into every table a report shows.

Modules: :mod:`~depthbench.analysis.cells` (selection on validation, per-cell
aggregates), :mod:`~depthbench.analysis.intervals` (order-statistic intervals,
isotonic fits), :mod:`~depthbench.analysis.censoring` (medians and tests over censored replicates),
:mod:`~depthbench.analysis.efficiency` (``P_d``, ``N_d``, ``E_d``),
:mod:`~depthbench.analysis.compute` (``F_d`` and ``E_d`` at matched forward FLOPs),
:mod:`~depthbench.analysis.gap` (the depth gap over a whole curve),
:mod:`~depthbench.analysis.scaling` (power-law fits),
:mod:`~depthbench.analysis.samples` (sample complexity),
:mod:`~depthbench.analysis.baselines` (baseline curves, cells a baseline beats).
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import cast

import pandas as pd

from depthbench.analysis.baselines import baseline_curves, beaten_by
from depthbench.analysis.basin import basins
from depthbench.analysis.cells import INSTANCE, PANEL, REPLICATE, TASK, Curves, aggregate, curves
from depthbench.analysis.censoring import holm
from depthbench.analysis.compute import matched_flops
from depthbench.analysis.efficiency import efficiency, eps_grid, resolve_eps, thresholds
from depthbench.analysis.fitness import best_effort_curves, fitness, judged
from depthbench.analysis.gap import depth_gap
from depthbench.analysis.samples import sample_complexity
from depthbench.analysis.scaling import scaling_fits
from depthbench.schema import DEFAULT_PROTOCOL, PROTOCOL_KEYS, UNTRAINED

__all__ = [
    "Analysis",
    "aggregate",
    "analyze",
    "curves",
    "flags",
    "instances",
    "label",
    "natural",
    "ordered",
    "short_names",
    "INSTANCE",
    "PANEL",
    "TASK",
]

REPLICATE_PARAMS = ("task.function_seed",)  # task parameters that draw a replicate, not an instance
NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")


def natural(text: object) -> tuple:
    """A sort key that orders the numbers inside labels by value: ``d=4`` before ``d=16``."""
    s, key, pos = str(text), [], 0
    for match in NUMBER.finditer(s):
        key += [(1, s[pos : match.start()]), (0, float(match.group()))]
        pos = match.end()
    return (*key, (1, s[pos:]))


def ordered(values: Iterable[object]) -> list:
    """Distinct ``values`` in :func:`natural` order."""
    return sorted(set(values), key=natural)


def _instance_columns(df: pd.DataFrame) -> list[str]:
    params = [
        c for c in df.columns if c.startswith(("task.", "model.")) and c not in REPLICATE_PARAMS
    ]
    return [
        "task",
        *[c for c in params if c.startswith("task.")],
        "model",
        *[c for c in params if c.startswith("model.")],
    ]


def _names(df: pd.DataFrame, keys: list[str]) -> pd.Series:
    """Per row: ``product n=8 low=-1 high=1 · mlp activation=silu`` from ``keys``
    (the model part only where ``keys`` hold ``model``)."""

    def part(row: pd.Series, name: str) -> str:
        args = [
            f"{c.split('.', 1)[1]}={row[c]:g}"
            if isinstance(row[c], float)
            else f"{c.split('.', 1)[1]}={row[c]}"
            for c in keys
            if c.startswith(f"{name}.") and pd.notna(row[c])
        ]
        return " ".join([str(row[name]), *args])

    groups = df.groupby(keys, dropna=False, sort=False)
    firsts = df.loc[groups.head(1).index]  # one row per group, in ngroup order
    names = [
        " · ".join(part(row, n) for n in ("task", "model") if n in keys)
        for _, row in firsts.iterrows()
    ]
    return pd.Series([names[i] for i in groups.ngroup()], index=df.index)


def _default(df: pd.DataFrame) -> pd.Series:
    """Rows of the default protocol (all, in a frame without the ``protocol`` column)."""
    if "protocol" not in df:
        return pd.Series(True, index=df.index)
    return df["protocol"] == DEFAULT_PROTOCOL


def protocol_split(df: pd.DataFrame) -> list[str]:
    """The :data:`~depthbench.schema.PROTOCOL_KEYS` in which trained rows of the
    default protocol differ within one task instance and model: rows that must not be
    pooled as replicates of one cell (``steps`` left out where a stop loss is set)."""
    trained = df[df["status"].isin(["ok", "diverged"]) & _default(df)]
    stopped = "train.stop_loss" in trained and trained["train.stop_loss"].notna().any()
    keys = [k for k in PROTOCOL_KEYS if k in trained and not (k == "steps" and stopped)]
    if trained.empty or not keys:
        return []
    groups = trained.groupby(_names(trained, _instance_columns(trained)))
    varies = groups[keys].nunique(dropna=False).max()
    return [k for k in keys if varies[k] > 1]


def _protocol_names(df: pd.DataFrame, keys: list[str]) -> pd.Series:
    """Per row, `` · steps=60 batch_size=256`` from the protocol ``keys``: a default
    row's own values, a refit row's those of the run it refits (``base_run_id``)."""
    if not keys:
        return pd.Series("", index=df.index)
    own = df[keys].astype("string").fillna("-")
    text = " · " + own.apply(lambda r: " ".join(f"{k}={v}" for k, v in r.items()), axis=1)
    by_run = pd.Series(text.to_numpy(), index=df["run_id"])
    base = df.get("base_run_id", pd.Series(None, index=df.index)).map(by_run.to_dict())
    return text.where(_default(df), base).fillna("")


def label(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with label columns: ``task_instance`` (the task and its parameters),
    ``instance`` (task instance and model family; a constructed or baseline row's is
    its task instance), ``panel`` (instance and n_train, ``online`` for 0) and
    ``replicate`` (data draw,
    task function seed where the family has one, model seed). Task function seeds and
    data seeds are replicates of one instance, not instances of their own."""
    keys = _instance_columns(df)
    trained = ~df["status"].isin(UNTRAINED)
    task_only = _names(df, [k for k in keys if k == "task" or k.startswith("task.")])
    split = protocol_split(df)
    if split:
        warnings.warn(
            f"the rows differ in how they were trained ({', '.join(split)}): each protocol "
            "is reported as a panel of its own, never pooled as replicates",
            stacklevel=2,
        )
    instance = (_names(df, keys) + _protocol_names(df, split)).where(trained, task_only)
    sizes = df["n_train"].astype("string").fillna("").replace("0", "online")
    panel = instance + " · n_train=" + sizes
    seeds = [c for c in ("data_seed", *REPLICATE_PARAMS, "seed") if c in df.columns]
    replicate = df[seeds].astype("string").fillna("-").agg("/".join, axis=1)
    return df.assign(
        **{
            TASK: task_only,
            INSTANCE: instance,
            PANEL: panel.where(trained, task_only),
            REPLICATE: replicate,
        }
    )


def instances(df: pd.DataFrame) -> pd.DataFrame:
    """One row per trained instance of a :func:`label`-ed frame: ``task``, its
    ``task.*`` parameters, ``model`` and its ``model.*`` parameters, ``task_instance``,
    ``chance``, ``bayes_metric``, ``theory.*``, and the thresholds declared with its
    run (``eps`` as JSON text, ``eps_scale``)."""
    trained = df[~df["status"].isin(UNTRAINED)]
    keep = [
        "task",
        *[
            c
            for c in df.columns
            if c.startswith(("task.", "theory.")) and c not in REPLICATE_PARAMS
        ],
        "model",
        *[c for c in df.columns if c.startswith("model.")],
        TASK,
        "chance",
        "bayes_metric",
        "eps",
        "eps_scale",
    ]
    info = trained.groupby(INSTANCE, sort=False)[keep].first()
    return info.loc[ordered(info.index)]


@dataclass(frozen=True)
class Analysis:
    """Every table of a report (see each function for its columns)."""

    instances: pd.DataFrame  # :func:`instances`
    cells: pd.DataFrame  # :func:`cells.aggregate`, with ``beaten_by``
    curves: Curves  # selected values, per cell and per replicate
    eps: dict[str, list[float]]  # absolute thresholds per instance
    eps_source: str  # where the thresholds came from, in words
    p: pd.DataFrame  # P_d(eps), :func:`efficiency.thresholds` on n_params
    n: pd.DataFrame  # N_d(eps), on n_hidden
    f: pd.DataFrame  # F_d(eps), on forward_flops, where it differs from 2 P_d (:mod:`.compute`)
    e_flops: pd.DataFrame  # F_1 / F_d in those panels
    e: (
        pd.DataFrame
    )  # E_d(eps) = P_1 / P_d, with ``p_holm`` and the best-effort fit's (:func:`fitness.judged`)
    fit: pd.DataFrame  # the best-effort fit per refit cell, :func:`fitness.fitness`
    basins: pd.DataFrame  # per construction and noise scale, :func:`basin.basins`
    gap: pd.DataFrame  # R_d over the common budget range, :func:`gap.depth_gap`, with ``p_holm``
    e_neurons: pd.DataFrame  # N_1 / N_d
    e_curve: pd.DataFrame  # E_d over a grid of eps per instance
    fits: pd.DataFrame  # :func:`scaling.scaling_fits`
    samples: pd.DataFrame  # :func:`samples.sample_complexity`
    baselines: pd.DataFrame  # :func:`baselines.baseline_curves`
    names: dict[str, str]  # panel, instance and task labels -> what varies (:func:`short_names`)
    fixed: str  # the parameters every panel shares, said once


def _eps(
    info: pd.DataFrame, override: Sequence[float] | None
) -> tuple[dict[str, list[float]], str]:
    """Absolute thresholds per instance: ``override`` (``--eps``) for every instance,
    else each instance's ``report.eps`` declared with its run, on its scale."""
    if override:
        return {i: list(override) for i in info.index}, (
            "--eps given to the report (absolute test_metric values): "
            + ", ".join(f"{e:g}" for e in override)
        )
    found: dict[str, list[float]] = {}
    said: list[str] = []
    for i, row in info.iterrows():
        declared = json.loads(row["eps"])
        found[cast(str, i)] = resolve_eps(  # indexed by instance name
            declared, row["eps_scale"], row["chance"], row["bayes_metric"]
        )
        said.append(f"{', '.join(f'{e:g}' for e in declared)} ({row['eps_scale']} scale)")
    return found, (
        "declared in the experiment config before the run (`report.eps`), stored "
        "with every row: " + "; ".join(sorted(set(said)))
    )


def _token(column: str, value: object) -> str:
    """``n=6``, ``mlp``, ``n_train=online``: one parameter as a label shows it."""
    if column in ("task", "model"):
        return str(value)
    if column == "n_train" and value == 0:
        return "n_train=online"
    shown = f"{value:g}" if isinstance(value, float) else str(value)
    return f"{column.split('.', 1)[-1]}={shown}"


def short_names(df: pd.DataFrame) -> tuple[dict[str, str], str]:
    """Labels a reader can tell apart at a glance: each ``panel``, ``instance`` and
    ``task_instance`` label of a :func:`label`-ed frame of trained rows -> only the
    parameters that vary between the panels (``n=6``), and the ones that do not, once
    (``product low=-1 high=1 · mlp activation=silu residual=False · n_train=8192``).
    A name is empty where nothing varies."""
    trained = df[~df["status"].isin(UNTRAINED) & _default(df)]
    columns = [*_instance_columns(df), *protocol_split(df), "n_train"]
    if trained.empty:  # constructions or baselines alone: tell their tasks apart
        trained, columns = df, [c for c in columns if c.startswith("task")]
    firsts = trained.groupby(TASK if "model" not in columns else PANEL, sort=False)[columns].first()
    varying = [c for c in columns if firsts[c].astype("string").nunique(dropna=False) > 1]
    names: dict[str, str] = {}
    keys = [(PANEL, columns), (INSTANCE, columns[:-1]), (TASK, columns)]
    for key, allowed in keys if "model" in columns else keys[2:]:
        rows = trained.groupby(key, sort=False)[columns].first()
        for label, row in rows.iterrows():
            shown = [c for c in varying if c in allowed and (key != TASK or c.startswith("task"))]
            names[str(label)] = " ".join(_token(c, row[c]) for c in shown if pd.notna(row[c]))
    first = firsts.iloc[0]
    parts: dict[str, list[str]] = {"task": [], "model": [], "n_train": []}
    for c in columns:
        if c not in varying and pd.notna(first[c]):
            parts["n_train" if c == "n_train" else c.split(".")[0]].append(_token(c, first[c]))
    fixed = " · ".join(" ".join(p) for p in parts.values() if p)
    return names, fixed


def analyze(df: pd.DataFrame, eps: Sequence[float] | None = None) -> Analysis:
    """All analyses of a :func:`label`-ed frame.

    ``eps``: absolute thresholds for every instance; by default each instance's
    thresholds declared with its run (``report.eps``, resolved by
    :func:`~depthbench.analysis.efficiency.resolve_eps`).
    """
    info = instances(df)
    c = curves(df)
    chance = cast("dict[str, float]", info["chance"].to_dict())  # instance name -> chance
    thresholds_by, source = _eps(info, eps)
    p = thresholds(c, thresholds_by, "n_params")
    n = thresholds(c, thresholds_by, "n_hidden")
    f, e_flops = matched_flops(c, thresholds_by)
    dense = {i: eps_grid(c, i, chance[i]) for i in info.index}
    base = baseline_curves(df)
    cells = aggregate(df, c)
    names, fixed = short_names(df)
    e, gap = _tested(efficiency(p), depth_gap(c, thresholds_by))
    fit = fitness(df)
    if not fit.empty:  # E_d of the best-effort values beside the default's
        c_best = best_effort_curves(df, c)
        e = judged(e, efficiency(thresholds(c_best, thresholds_by, "n_params")), c_best, fit)
    return Analysis(
        instances=info,
        cells=cells.assign(beaten_by=beaten_by(cells, df, base)),
        curves=c,
        eps=thresholds_by,
        eps_source=source,
        p=p,
        n=n,
        f=f,
        e_flops=e_flops,
        e=e,
        fit=fit,
        basins=basins(df),
        gap=gap,
        e_neurons=efficiency(n),
        e_curve=efficiency(thresholds(c, dense, "n_params")),
        fits=scaling_fits(c),
        samples=sample_complexity(c, chance),
        baselines=base,
        names=names,
        fixed=fixed,
    )


def _tested(e: pd.DataFrame, gap: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``e`` and ``gap`` with ``p_holm``: their sign tests adjusted by Holm's method,
    E_d > 1 at each bracketed eps as one family (the panels, depths and eps of the
    report's claim), R_d > 1 as another (docs/science.md, "Paired tests")."""
    return e.assign(p_holm=holm(e["p"].tolist())), gap.assign(p_holm=holm(gap["p"].tolist()))


def flags(cells: pd.DataFrame) -> pd.DataFrame:
    """Cells a reader must not take at face value: the chosen learning rate at the
    edge of the grid tried (``lr_edge``), members at it that did not converge
    (``converged < members``), or a median training loss above the stop loss the
    protocol trains to (``stop_loss``). Columns: the cell keys, ``n_train`` and
    ``problem``."""
    edge = cells["lr_edge"].fillna("") != ""
    unconverged = cells["converged"].fillna(0) < cells["members"].fillna(0)
    short = cells["train_loss"] > cells["stop_loss"]  # False where no stop loss is set
    problem = [
        ", ".join(
            p
            for p, on in (
                (f"lr at {e} edge ({lr:g})", ed),
                (f"{m - k:.0f}/{m:.0f} not converged", un),
                (f"train loss {loss:.3g} above the stop loss {stop:g}", sh),
            )
            if on
        )
        for e, lr, ed, m, k, un, loss, stop, sh in zip(
            cells["lr_edge"],
            cells["lr"],
            edge,
            cells["members"],
            cells["converged"],
            unconverged,
            cells["train_loss"],
            cells["stop_loss"],
            short,
        )
    ]
    out = cells.assign(problem=problem)[edge | unconverged | short]
    return out[[PANEL, "n_train", "depth", "budget", "problem"]].reset_index(drop=True)
