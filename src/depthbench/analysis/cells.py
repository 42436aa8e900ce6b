"""Per-cell selection and aggregates: hyper-parameters chosen on validation, the test
set read once.

A *cell* is one panel (task instance, model, n_train) x depth x budget; its members
differ by learning rate and by *replicate*: the model seed, and the data draw
(``data_seed``) and task instance (``task.function_seed``) where a sweep has several.
The learning rate is a hyper-parameter, so each cell chooses one rate: the one with
the lowest mean ``val_metric`` over its replicates. The cell's headline ``tuned``
value is the median over replicates of ``test_metric`` at that rate, and its interval
is the distribution-free order-statistic interval of that median
(:func:`~depthbench.analysis.intervals.median_interval`), labelled by its true
coverage. A diverged member counts at chance in both the choice and the value (it
yields no usable model). ``oracle`` (the median over replicates of the best test
value over rates) is test-selected: shown for comparison, never used for P_d or E_d.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from depthbench import bounds
from depthbench.analysis.intervals import LEVEL, median_interval
from depthbench.schema import STATUSES

PANEL = "panel"
INSTANCE = "instance"
TASK = "task_instance"  # the task part of the instance label: matches baselines and constructions
REPLICATE = "replicate"
CELL = [PANEL, "depth", "budget"]
TRAINED = ("ok", "diverged")

__all__ = [
    "CELL",
    "Curves",
    "INSTANCE",
    "LEVEL",
    "PANEL",
    "REPLICATE",
    "TASK",
    "aggregate",
    "status_counts",
]


@dataclass(frozen=True)
class Curves:
    """The selected test_metric of every cell with trained members.

    ``points``: one row per cell: the cell keys, ``instance``, ``n_train``,
    ``n_params``, ``n_hidden``, ``forward_flops``, ``tuned``, ``tuned_lo``,
    ``tuned_hi``, ``coverage`` (of that interval), ``replicates`` (their number).
    ``per_replicate``: ``[len(points), R]``, the test_metric of each replicate at the
    cell's chosen rate (NaN where a replicate has no member), columns the replicate keys.
    """

    points: pd.DataFrame
    per_replicate: pd.DataFrame


def _members(df: pd.DataFrame) -> pd.DataFrame:
    """Trained members with ``val``/``test`` (a diverged member at chance)."""
    trained = df[df["status"].isin(TRAINED)]
    ok = trained["status"] == "ok"
    return trained.assign(
        val=trained["val_metric"].where(ok, trained["chance"]),
        test=trained["test_metric"].where(ok, trained["chance"]),
    )


def _choose(members: pd.DataFrame) -> pd.DataFrame:
    """Per cell: ``lr`` (lowest mean val over replicates; ties to the smaller rate),
    ``val`` (that mean), ``lrs`` (rates tried), ``lr_edge`` (``low``/``high`` when
    the chosen rate is the smallest/largest of two or more tried, else ``""``)."""
    by_lr = members.groupby([*CELL, "lr"])["val"].mean().reset_index()
    best = by_lr.sort_values([*CELL, "val", "lr"]).groupby(CELL).head(1).set_index(CELL)
    span = by_lr.groupby(CELL)["lr"].agg(["min", "max", "count"])
    chosen = best.join(span)
    edge = np.where(
        chosen["count"] < 2,
        "",
        np.where(
            chosen["lr"] == chosen["min"],
            "low",
            np.where(chosen["lr"] == chosen["max"], "high", ""),
        ),
    )
    return chosen.assign(lrs=chosen["count"], lr_edge=edge)[["lr", "val", "lrs", "lr_edge"]]


def _at_chosen(members: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`_choose` per cell, and the members trained at the chosen rate."""
    chosen = _choose(members)
    at = members.join(chosen["lr"].rename("chosen"), on=CELL)
    return chosen, at[at["lr"] == at["chosen"]]


def curves(df: pd.DataFrame) -> Curves:
    """Selected values per cell and per replicate (see the module doc)."""
    members = _members(df)
    columns = [
        *CELL,
        INSTANCE,
        "n_train",
        "n_params",
        "n_hidden",
        "forward_flops",
        "tuned",
        "tuned_lo",
        "tuned_hi",
        "coverage",
        "replicates",
    ]
    if members.empty:
        return Curves(pd.DataFrame(columns=columns), pd.DataFrame())
    _, at = _at_chosen(members)
    table = at.pivot_table(index=CELL, columns=REPLICATE, values="test", aggfunc="first")
    facts = members.groupby(CELL).agg(
        instance=(INSTANCE, "first"),
        n_train=("n_train", "first"),
        n_params=("n_params", "first"),
        n_hidden=("n_hidden", "first"),
        forward_flops=("forward_flops", "first"),
    )
    values = table.to_numpy(float)
    bounds = np.array([median_interval(v) for v in values]).reshape(-1, 3)
    points = (
        facts.loc[table.index]
        .assign(
            tuned=np.nanmedian(values, axis=1),
            tuned_lo=bounds[:, 0],
            tuned_hi=bounds[:, 1],
            coverage=bounds[:, 2],
            replicates=(~np.isnan(values)).sum(axis=1),
        )
        .reset_index()[columns]
    )
    return Curves(points, table.reset_index(drop=True))


def aggregate(df: pd.DataFrame, c: Curves) -> pd.DataFrame:
    """One row per trained cell: its keys and sizes; the chosen ``lr``, ``lr_edge``,
    ``val`` (mean validation metric at it); ``tuned`` with ``tuned_lo``/``tuned_hi``
    and ``coverage`` (from ``c``); ``train_loss`` (median at the chosen rate, the
    loss's units: standardised MSE or cross-entropy); ``converged`` (members at the
    chosen rate that converged, :func:`depthbench.schedule.converged`) of ``members``;
    ``oracle`` (test-selected, see the module doc); status counts over all rates;
    mean ``train_time_s``; ``floor``, the lower bound a theorem puts on the test_metric
    of every network of the cell's shape (:func:`depthbench.bounds.floor`; NaN if none);
    ``stop_loss``, the training loss its members were to stop at (NaN if none)."""
    order = [
        *CELL,
        INSTANCE,
        "n_train",
        "width",
        "n_params",
        "n_hidden",
        "lr",
        "lrs",
        "lr_edge",
        "val",
        "tuned",
        "tuned_lo",
        "tuned_hi",
        "coverage",
        "replicates",
        "floor",
        "stop_loss",
        "train_loss",
        "converged",
        "members",
        "oracle",
        "ok",
        "diverged",
        "infeasible",
        "train_time_s",
    ]
    rows = df[df["status"].isin([*TRAINED, "infeasible"])]
    rows = rows.assign(
        floor=bounds.floor(rows),
        stop_loss=pd.to_numeric(rows["train.stop_loss"]) if "train.stop_loss" in rows else np.nan,
    )
    members = _members(df)
    if members.empty:
        return pd.DataFrame(columns=order)
    counts = pd.crosstab([rows[k] for k in CELL], rows["status"]).reindex(
        columns=["ok", "diverged", "infeasible"], fill_value=0
    )
    first = rows.groupby(CELL).agg(
        instance=(INSTANCE, "first"),
        n_train=("n_train", "first"),
        width=("width", "first"),
        n_params=("n_params", "first"),
        n_hidden=("n_hidden", "first"),
        floor=("floor", "first"),
        stop_loss=("stop_loss", "first"),
    )
    chosen, at = _at_chosen(members)
    at_stats = at.groupby(CELL).agg(
        train_loss=("train_loss", "median"),
        converged=("converged", lambda s: int(s.fillna(False).astype(bool).sum())),
        members=("test", "size"),
    )
    oracle = (
        members.groupby([*CELL, REPLICATE])["test"]
        .min()
        .groupby(level=CELL)
        .median()
        .rename("oracle")
    )
    time = members.groupby(CELL)["train_time_s"].mean()
    table = first.join(chosen).join(at_stats).join(oracle).join(time).join(counts).reset_index()
    table = table.merge(
        c.points[[*CELL, "tuned", "tuned_lo", "tuned_hi", "coverage", "replicates"]],
        on=CELL,
        how="left",
    )
    for column in ("ok", "diverged", "infeasible"):
        table[column] = table[column].fillna(0).astype(int)
    return table[order].sort_values(CELL, ignore_index=True)


def status_counts(df: pd.DataFrame) -> dict[str, int]:
    """Rows per status, in :data:`~depthbench.schema.STATUSES` order."""
    counts = df["status"].value_counts()
    return {s: int(counts.get(s, 0)) for s in STATUSES if counts.get(s, 0)}
