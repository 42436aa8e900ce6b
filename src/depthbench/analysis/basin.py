"""The basin of each construction, read from its basin rows (docs/science.md, "Basin
of a construction"; :mod:`depthbench.basin`).

Per task instance, construction and noise scale: how many of the noise draws the
polish brought below ``eps`` (the smallest threshold declared with the run, on the
absolute scale), and the median test_metric after the polish. The
construction's *basin width* is the largest noise scale at which a majority of draws
recovered, every smaller scale having recovered too; ``< s`` (s the smallest scale
tried) where the smallest did not.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from depthbench.analysis.cells import TASK
from depthbench.analysis.efficiency import resolve_eps
from depthbench.schema import BASIN, basin_noise

COLUMNS = [TASK, "model", "depth", "width", "n_params", "noise", "draws", "recovered", "eps",
           "median", "worst", "width_noise", "width_censor"]  # fmt: skip


def basins(df: pd.DataFrame) -> pd.DataFrame:
    """One row per task instance, construction and noise scale of a
    :func:`~depthbench.analysis.label`-ed frame: :data:`COLUMNS`, ``width_noise`` and
    ``width_censor`` (``""`` or ``"<"``) the construction's basin width, repeated on
    each of its rows."""
    rows = df[df["status"] == BASIN]
    if rows.empty:
        return pd.DataFrame(columns=COLUMNS)
    rows = rows.assign(noise=rows["protocol"].map(basin_noise), eps=_smallest_eps(rows))
    rows = rows.assign(ok=rows["test_metric"] <= rows["eps"])
    keys = [TASK, "model", "depth", "width", "n_params", "noise"]
    table = (
        rows.groupby(keys)
        .agg(
            draws=("ok", "size"),
            recovered=("ok", "sum"),
            eps=("eps", "first"),
            median=("test_metric", "median"),
            worst=("test_metric", "max"),
        )
        .reset_index()
    )
    widths = table.groupby([TASK, "model"], sort=False).apply(_width, include_groups=False)
    table = table.join(widths, on=[TASK, "model"])
    return table[COLUMNS].sort_values([TASK, "model", "noise"], ignore_index=True)


def _smallest_eps(rows: pd.DataFrame) -> list[float]:
    """Per row, the smallest threshold declared with its run, on the absolute scale."""
    return [
        min(resolve_eps(json.loads(e), scale, chance, bayes))
        for e, scale, chance, bayes in zip(
            rows["eps"], rows["eps_scale"], rows["chance"], rows["bayes_metric"]
        )
    ]


def _width(scales: pd.DataFrame) -> pd.Series:
    """The basin width of one construction: its noise scales in order, each recovered
    (a strict majority of draws) or not."""
    ordered = scales.sort_values("noise")
    majority = (2 * ordered["recovered"] > ordered["draws"]).to_numpy()
    run = int(np.argmin(majority)) if not majority.all() else len(majority)
    noise = ordered["noise"].to_numpy(float)
    if run == 0:
        return pd.Series({"width_noise": noise[0], "width_censor": "<"})
    return pd.Series({"width_noise": noise[run - 1], "width_censor": ""})
