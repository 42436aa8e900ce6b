"""Per-cell aggregates over a cell's members (seeds x learning rates).

A *cell* is one panel (task instance, model, n_train) x depth x budget; its members
differ by seed and learning rate. Learning rate is a hyper-parameter and seed is
noise, so the cell's headline value is *tuned*: per seed the best test_metric over
learning rates, then the median over seeds. Its uncertainty comes from resampling
seeds (each seed is one replicate of the whole grid, so one resample of seeds is
applied to every cell of a panel).
"""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from depthbench import results

PANEL = "panel"
INSTANCE = "instance"
CELL = [PANEL, "depth", "budget"]
REPS = 1000  # bootstrap replicates
LEVEL = 0.95  # confidence level of every interval


def rng_for(label: str, seed: int = 0) -> np.random.Generator:
    """A generator fixed by ``label`` and ``seed``: the same rows give the same
    intervals, and adding a panel does not change another panel's draws."""
    digest = hashlib.sha256(f"{seed}:{label}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def interval(samples: np.ndarray, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval at :data:`LEVEL` along ``axis`` (NaNs ignored)."""
    tail = 100 * (1 - LEVEL) / 2
    with warnings.catch_warnings():  # all-NaN slices give NaN bounds
        warnings.simplefilter("ignore", RuntimeWarning)
        lo, hi = np.nanpercentile(samples, [tail, 100 - tail], axis=axis)
    return lo, hi


def _mean_interval(values: np.ndarray, rng: np.random.Generator, reps: int) -> tuple[float, float]:
    """Bootstrap percentile interval of the mean of ``values`` ``[k]``."""
    if len(values) < 2:
        return (float(values[0]), float(values[0])) if len(values) else (np.nan, np.nan)
    means = values[rng.integers(len(values), size=(reps, len(values)))].mean(axis=1)
    lo, hi = interval(means)
    return float(lo), float(hi)


def aggregate(df: pd.DataFrame, c: Curves, reps: int = REPS, seed: int = 0) -> pd.DataFrame:
    """One row per cell of a frame with a ``panel`` column (trained rows only).

    Columns: the cell keys, ``instance``, ``n_train``, ``width``, ``n_params``,
    ``n_hidden``; over the ``ok`` members ``median``, ``best``, ``mean`` with its
    bootstrap interval ``mean_lo``/``mean_hi``, ``tuned`` (median over seeds of the
    best over learning rates) with ``tuned_lo``/``tuned_hi`` (from ``c``, the
    frame's :func:`curves`);
    ``ok``, ``diverged``, ``infeasible`` member counts; mean ``train_time_s``.
    """
    order = [*CELL, INSTANCE, "n_train", "width", "n_params", "n_hidden", "median", "best", "mean",
             "mean_lo", "mean_hi", "tuned", "tuned_lo", "tuned_hi", "ok", "diverged", "infeasible",
             "train_time_s"]
    trained = df[df["status"].isin(["ok", "diverged", "infeasible"])]
    if trained.empty:
        return pd.DataFrame(columns=order)
    counts = pd.crosstab([trained[k] for k in CELL], trained["status"]).reindex(
        columns=["ok", "diverged", "infeasible"], fill_value=0)
    first = trained.groupby(CELL).agg(instance=(INSTANCE, "first"), n_train=("n_train", "first"),
                                      width=("width", "first"), n_params=("n_params", "first"),
                                      n_hidden=("n_hidden", "first"))
    ok = trained[trained["status"] == "ok"]
    stats = ok.groupby(CELL)["test_metric"].agg(median="median", best="min", mean="mean")
    time = ok.groupby(CELL)["train_time_s"].mean().rename("train_time_s")
    bounds = {}
    for key, part in ok.groupby(CELL):
        rng = rng_for("mean:" + ":".join(map(str, key)), seed)
        bounds[key] = _mean_interval(part["test_metric"].to_numpy(float), rng, reps)
    mean_ci = pd.DataFrame.from_dict(bounds, orient="index", columns=["mean_lo", "mean_hi"])
    if len(mean_ci):
        mean_ci.index = pd.MultiIndex.from_tuples(mean_ci.index, names=CELL)
    table = first.join(stats).join(mean_ci).join(time).join(counts).reset_index()
    table = table.merge(c.points[[*CELL, "tuned", "tuned_lo", "tuned_hi"]], on=CELL, how="left")
    return table[order].sort_values(CELL, ignore_index=True)


@dataclass(frozen=True)
class Curves:
    """The tuned test_metric of every cell with ok members, and its replicates.

    ``points``: one row per cell: the cell keys, ``instance``, ``n_train``,
    ``n_params``, ``n_hidden``, ``tuned``, ``tuned_lo``, ``tuned_hi``.
    ``replicates``: ``[reps, len(points)]``, the tuned value on seed-resampled
    replicates (row ``b`` of one panel uses one resample of its seeds).
    """

    points: pd.DataFrame
    replicates: np.ndarray


def curves(df: pd.DataFrame, reps: int = REPS, seed: int = 0) -> Curves:
    """Tuned values per cell and their bootstrap replicates (see the module doc)."""
    ok = df[df["status"] == "ok"]
    per_seed = ok.groupby([*CELL, "seed"])["test_metric"].min().unstack("seed")  # [cells, seeds]
    facts = ok.groupby(CELL).agg(instance=(INSTANCE, "first"), n_train=("n_train", "first"),
                                 n_params=("n_params", "first"), n_hidden=("n_hidden", "first"))
    points, blocks = [], []
    for panel, part in per_seed.groupby(level=PANEL, sort=True):
        values = part.to_numpy(float)  # [cells, seeds], NaN where a seed has no ok member
        draws = rng_for(f"seeds:{panel}", seed).integers(values.shape[1], size=(reps, values.shape[1]))
        with warnings.catch_warnings():  # a replicate may draw only seeds a cell lacks: NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            boot = np.nanmedian(values[:, draws], axis=2).T  # [reps, cells]
            tuned = np.nanmedian(values, axis=1)
        lo, hi = interval(boot)
        frame = facts.loc[part.index].reset_index()
        points.append(frame.assign(tuned=tuned, tuned_lo=lo, tuned_hi=hi))
        blocks.append(boot)
    if not points:
        empty = pd.DataFrame(columns=[*CELL, INSTANCE, "n_train", "n_params", "n_hidden",
                                      "tuned", "tuned_lo", "tuned_hi"])
        return Curves(empty, np.zeros((reps, 0)))
    return Curves(pd.concat(points, ignore_index=True), np.concatenate(blocks, axis=1))


def status_counts(df: pd.DataFrame) -> dict[str, int]:
    """Rows per status, in :data:`results.STATUSES` order."""
    counts = df["status"].value_counts()
    return {s: int(counts.get(s, 0)) for s in results.STATUSES if counts.get(s, 0)}
