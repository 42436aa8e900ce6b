"""The best-effort fit read per cell, and the curves it yields (docs/science.md,
"Best-effort fit").

A refit cell (rows of status ``refit``, :mod:`depthbench.refit`) holds, per replicate,
its default value (the cell's chosen rate, :mod:`~depthbench.analysis.cells`), the
steps check (the same member trained ``steps_factor`` times longer) and the polish
(that member after float64 L-BFGS). The cell is

- **stable** when the median over replicates of the steps check is within a factor
  ``max(RATIO, spread)`` of the default median (``spread``: the largest over the
  smallest default replicate value);
- **polished** when the polish median is within :data:`RATIO` of the steps-check one;
- **fitted** when both hold; otherwise *optimiser-limited*;
- **gated** when its training loss (median, at the best-effort stage) is above that of
  random features with at most :data:`RF_SIZE` times its parameters (regression; the
  classification baselines are least squares, with no cross-entropy to compare).

The *best-effort* value of a replicate is the test_metric of whichever of its three
stages has the lowest ``val_metric``: the choice is made on validation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from depthbench.analysis.cells import CELL, REPLICATE, TASK, TRAINED, Curves, _at_chosen, _members
from depthbench.analysis.censoring import BETWEEN, bounds
from depthbench.analysis.intervals import median_interval

RATIO = 1.5  # a stage that moves the median by less than this leaves the cell as it was
RF_SIZE = 1.1  # random features of at most this many times a cell's parameters gate it
POLISHED = "L-BFGS"  # in the ``protocol`` of a polish stage's rows
STAGES = ("default", "steps", "polish")

COLUMNS = [
    *CELL,
    "n_train",
    "n_params",
    "refit",
    "default",
    "steps",
    "polish",
    "best",
    "spread",
    "stable",
    "polished",
    "fitted",
    "stage",
    "train_loss",
    "rf_train_loss",
    "gated",
]


def _factor(a: float, b: float) -> float:
    """How far apart two values >= 0 are, as a factor >= 1: 1 if equal (a cell at 0
    errors in every stage has not moved), inf if only one is 0."""
    lo, hi = sorted((a, b))
    if hi == lo:
        return 1.0
    return hi / lo if lo > 0 else np.inf


def _stages(df: pd.DataFrame) -> pd.DataFrame:
    """One row per cell and replicate: each stage's ``val_``, ``test_`` and
    ``train_`` value (NaN where a stage is missing). Only refit rows of the member the
    analysis chose (their ``base_run_id``: a job that chose another rate for its
    replicate refit another member, which counts as not refit); a refit member that
    diverged counts at chance, as a diverged default member does."""
    _, at = _at_chosen(_members(df))
    default = at.assign(stage="default")
    refit = df[(df["status"] == "refit") & df["base_run_id"].isin(set(at["run_id"]))]
    failed = refit["reason"].notna()
    refit = refit.assign(
        stage=np.where(refit["protocol"].str.contains(POLISHED, regex=False), "polish", "steps"),
        val=refit["val_metric"].where(~failed, refit["chance"]),
        test=refit["test_metric"].where(~failed, refit["chance"]),
    )
    both = pd.concat([default, refit], ignore_index=True)
    wide = both.pivot_table(
        index=[*CELL, REPLICATE],
        columns="stage",
        values=["val", "test", "train_loss"],
        aggfunc="first",
    )
    wide.columns = [f"{value}_{stage}" for value, stage in wide.columns]
    return wide.reindex(
        columns=[f"{v}_{s}" for v in ("val", "test", "train_loss") for s in STAGES]
    ).reset_index()


def _best(stages: pd.DataFrame) -> pd.DataFrame:
    """Per cell and replicate: the stage of lowest ``val``, its ``best`` test value and
    its ``train`` loss."""
    vals = stages[[f"val_{s}" for s in STAGES]].to_numpy(float)
    pick = np.nanargmin(np.where(np.isnan(vals), np.inf, vals), axis=1)
    rows = np.arange(len(stages))
    tests = stages[[f"test_{s}" for s in STAGES]].to_numpy(float)
    trains = stages[[f"train_loss_{s}" for s in STAGES]].to_numpy(float)
    return stages.assign(
        stage=np.array(STAGES)[pick], best=tests[rows, pick], train=trains[rows, pick]
    )


def _rf_loss(df: pd.DataFrame, cells: pd.DataFrame) -> np.ndarray:
    """Per cell, the training loss of random features of its task instance and n_train
    with at most :data:`RF_SIZE` times its parameters (the median over their seeds, the
    lowest over their sizes; NaN if none)."""
    rf = df[(df["status"] == "baseline") & (df["model"] == "random_features")]
    out = []
    for task, n_train, n_params in zip(cells[TASK], cells["n_train"], cells["n_params"]):
        mine = rf[
            (rf[TASK] == task) & (rf["n_train"] == n_train) & (rf["n_params"] <= RF_SIZE * n_params)
        ]
        by_size = mine.groupby("n_params")["train_loss"].median()
        out.append(float(by_size.min()) if len(by_size) else np.nan)
    return np.array(out)


def fitness(df: pd.DataFrame) -> pd.DataFrame:
    """One row per refit cell of a :func:`~depthbench.analysis.label`-ed frame: the
    :data:`COLUMNS` (medians over replicates per stage, the module doc's verdicts,
    ``stage``: the stage each replicate's best-effort value came from, e.g.
    ``polish 3``)."""
    if not (df["status"] == "refit").any():
        return pd.DataFrame(columns=COLUMNS)
    best = _best(_stages(df))
    refit = best[best["test_steps"].notna() | best["test_polish"].notna()]
    # every stage's median over the same replicates: those refit
    per = refit.set_index(CELL).groupby(level=list(range(len(CELL))))
    table = per.agg(
        refit=("test_steps", "count"),
        default=("test_default", "median"),
        steps=("test_steps", "median"),
        polish=("test_polish", "median"),
        best=("best", "median"),
        lo=("test_default", "min"),
        hi=("test_default", "max"),
        train_loss=("train", "median"),
        stage=("stage", lambda s: ", ".join(f"{k} {v}" for k, v in s.value_counts().items())),
    ).reset_index()
    facts = df[df["status"].isin(TRAINED)].groupby(CELL)[[TASK, "n_train", "n_params"]].first()
    table = table.join(facts, on=CELL)
    spread = np.where(table["lo"] > 0, table["hi"] / table["lo"], np.inf)
    stable = [
        _factor(a, b) < max(RATIO, s) for a, b, s in zip(table["default"], table["steps"], spread)
    ]
    polished = [_factor(a, b) < RATIO for a, b in zip(table["steps"], table["polish"])]
    rf = _rf_loss(df, table)
    table = table.assign(
        spread=spread,
        stable=stable,
        polished=polished,
        fitted=np.logical_and(stable, polished),
        rf_train_loss=rf,
        gated=table["train_loss"].to_numpy(float) > rf,  # False where no baseline
    )
    return table[COLUMNS].sort_values(CELL, ignore_index=True)


def best_effort_curves(df: pd.DataFrame, c: Curves) -> Curves:
    """``c`` with every refit cell's per-replicate values replaced by the best-effort
    ones (the lowest-validation stage), its median and interval recomputed; cells
    not refit keep their default values."""
    if not (df["status"] == "refit").any():
        return c
    best = _best(_stages(df)).pivot_table(
        index=CELL, columns=REPLICATE, values="best", aggfunc="first"
    )
    points = c.points.copy()
    table = c.per_replicate.copy()
    at = pd.MultiIndex.from_frame(points[CELL])
    for i, key in enumerate(at):
        if key not in best.index:
            continue
        values = best.loc[key].reindex(table.columns).to_numpy(float)
        keep = ~np.isnan(values)
        table.iloc[i, keep] = values[keep]
        row = table.iloc[i].to_numpy(float)
        lo, hi, coverage = median_interval(row)
        points.loc[points.index[i], ["tuned", "tuned_lo", "tuned_hi", "coverage"]] = [
            float(np.nanmedian(row)),
            lo,
            hi,
            coverage,
        ]
    return Curves(points, table)


def _side(value: float, censor: str, value_hi: float) -> int:
    """Which side of 1 a censored ratio certainly lies on: 1 above, -1 below, 0 unknown."""
    low, high = (value, value_hi) if censor == BETWEEN else bounds(value, censor)
    return 1 if low > 1 else -1 if high < 1 else 0


def _deciding(c: Curves, panel: str, depth: int, eps: float) -> list[tuple]:
    """The cells (keys) of ``panel`` and ``depth`` on both sides of the crossing of
    eps by the median curve's running minimum (the largest cell if it never crosses)."""
    part = c.points[(c.points[CELL[0]] == panel) & (c.points["depth"] == depth)]
    part = part.sort_values("n_params")
    if part.empty:
        return []
    best = np.fmin.accumulate(part["tuned"].to_numpy(float))
    hits = np.flatnonzero(best <= eps)
    i = int(hits[0]) if len(hits) else len(part) - 1
    return [tuple(k) for k in part[CELL].to_numpy()[max(0, i - 1) : i + 1]]


def judged(
    e: pd.DataFrame, e_best: pd.DataFrame, c_best: Curves, fit: pd.DataFrame
) -> pd.DataFrame:
    """``e`` with the best-effort E_d beside it (``best_value``, ``best_censor``,
    ``best_value_hi``), ``fit`` (``fitted`` where every cell deciding the crossing of
    both depths, on the best-effort curves, is fitted and not gated;
    ``optimiser-limited`` where one is not; ``unchecked`` where one was not refit) and
    ``sign`` (``optimiser-dependent`` where the default and best-effort E_d lie
    certainly on opposite sides of 1, else ``agrees``)."""
    keys = ["panel", "depth", "eps"]
    best = e_best.set_index(keys)[["value", "censor", "value_hi"]].add_prefix("best_")
    out = e.join(best, on=keys)
    verdicts = fit.set_index(CELL)[["fitted", "gated"]]
    status, sign = [], []
    for row in out.itertuples():
        cells = _deciding(c_best, row.panel, 1, row.eps) + _deciding(
            c_best, row.panel, row.depth, row.eps
        )
        known = [k for k in cells if k in verdicts.index]
        if len(known) < len(cells):
            status.append("unchecked")
        elif all(verdicts.loc[k, "fitted"] and not verdicts.loc[k, "gated"] for k in known):
            status.append("fitted")
        else:
            status.append("optimiser-limited")
        default = _side(row.value, row.censor, row.value_hi)
        effort = _side(row.best_value, row.best_censor, row.best_value_hi)
        sign.append("optimiser-dependent" if default * effort < 0 else "agrees")
    return out.assign(fit=status, sign=sign)
