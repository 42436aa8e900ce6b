"""Analysis of stored result rows, pure pandas/numpy: :func:`analyze` turns the rows
of :func:`depthbench.results.load` into every table a report shows.

Modules: :mod:`~depthbench.analysis.cells` (per-cell aggregates, bootstrap),
:mod:`~depthbench.analysis.efficiency` (``P_d``, ``N_d``, ``E_d``),
:mod:`~depthbench.analysis.scaling` (power-law fits),
:mod:`~depthbench.analysis.samples` (sample complexity).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from depthbench.analysis.cells import INSTANCE, PANEL, REPS, Curves, aggregate, curves
from depthbench.analysis.efficiency import default_eps, efficiency, thresholds
from depthbench.analysis.samples import sample_complexity
from depthbench.analysis.scaling import scaling_fits

__all__ = ["Analysis", "analyze", "label", "instances", "INSTANCE", "PANEL"]


def _instance_columns(df: pd.DataFrame) -> list[str]:
    params = [c for c in df.columns if c.startswith(("task.", "model."))]
    return ["task", *[c for c in params if c.startswith("task.")], "model",
            *[c for c in params if c.startswith("model.")]]


def _names(df: pd.DataFrame, keys: list[str]) -> pd.Series:
    """Per row: ``product n=8 low=-1 high=1 · mlp activation=silu`` from ``keys``
    (the model part only where ``keys`` hold ``model``)."""
    def part(row: pd.Series, name: str) -> str:
        args = [f"{c.split('.', 1)[1]}={row[c]:g}" if isinstance(row[c], float) else
                f"{c.split('.', 1)[1]}={row[c]}"
                for c in keys if c.startswith(f"{name}.") and pd.notna(row[c])]
        return " ".join([str(row[name]), *args])

    groups = df.groupby(keys, dropna=False, sort=False)
    firsts = df.loc[groups.head(1).index]  # one row per group, in ngroup order
    names = [" · ".join(part(row, n) for n in ("task", "model") if n in keys)
             for _, row in firsts.iterrows()]
    return pd.Series([names[i] for i in groups.ngroup()], index=df.index)


def label(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with ``instance`` (task instance and model family) and ``panel``
    (instance and n_train) label columns; a constructed row's are its task instance."""
    keys = _instance_columns(df)
    trained = df["status"] != "constructed"
    task_only = _names(df, [k for k in keys if k == "task" or k.startswith("task.")])
    instance = _names(df, keys).where(trained, task_only)
    panel = instance + " · n_train=" + df["n_train"].astype("string").fillna("")
    return df.assign(**{INSTANCE: instance, PANEL: panel.where(trained, task_only)})


def instances(df: pd.DataFrame) -> pd.DataFrame:
    """One row per trained instance of a :func:`label`-ed frame: ``task``, its
    ``task.*`` parameters, ``chance``, ``bayes_metric`` and ``theory.*`` columns."""
    trained = df[df["status"] != "constructed"]
    keep = ["task", *[c for c in df.columns if c.startswith(("task.", "theory."))],
            "chance", "bayes_metric"]
    return trained.groupby(INSTANCE, sort=True)[keep].first()


@dataclass(frozen=True)
class Analysis:
    """Every table of a report (see each function for its columns)."""

    instances: pd.DataFrame  # :func:`instances`
    cells: pd.DataFrame  # :func:`cells.aggregate`
    curves: Curves  # tuned values and replicates
    eps: dict[str, list[float]]  # thresholds per instance
    p: pd.DataFrame  # P_d(eps), :func:`efficiency.thresholds` on n_params
    n: pd.DataFrame  # N_d(eps), on n_hidden
    e: pd.DataFrame  # E_d(eps) = P_1 / P_d
    e_neurons: pd.DataFrame  # N_1 / N_d
    fits: pd.DataFrame  # :func:`scaling.scaling_fits`
    samples: pd.DataFrame  # :func:`samples.sample_complexity`


def analyze(df: pd.DataFrame, eps: Sequence[float] | None = None, reps: int = REPS,
            seed: int = 0) -> Analysis:
    """All analyses of the trained rows of a :func:`label`-ed frame.

    ``eps``: thresholds for every instance; by default each instance's
    :func:`~depthbench.analysis.efficiency.default_eps` (fractions of its chance level).
    ``reps`` bootstrap replicates drawn from generators fixed by ``seed`` and the
    panel: the same rows give the same tables.
    """
    info = instances(df)
    c = curves(df, reps, seed)
    chance = info["chance"].to_dict()
    thresholds_by = {i: list(eps) if eps else default_eps(chance[i]) for i in info.index}
    p = thresholds(c, thresholds_by, "n_params")
    n = thresholds(c, thresholds_by, "n_hidden")
    return Analysis(
        instances=info, cells=aggregate(df, c, reps, seed), curves=c, eps=thresholds_by,
        p=p, n=n, e=efficiency(p), e_neurons=efficiency(n), fits=scaling_fits(c),
        samples=sample_complexity(c, chance),
    )
