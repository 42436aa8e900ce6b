"""Depth efficiency at matched compute: the thresholds and ``E_d`` of
:mod:`~depthbench.analysis.efficiency` with one sample's forward FLOPs
(``forward_flops``, :meth:`depthbench.models.BatchedModel.count_flops`) as the size
instead of ``n_params``.

A dense or locally connected net uses each parameter once per sample, so its forward
FLOPs are ``2 n_params`` and its ``F_d(eps)`` is ``2 P_d(eps)``: ``E_d`` at matched
FLOPs equals ``E_d`` at matched parameters. Only a panel whose nets share weights (a
CNN applies its filter at every position) or pool can differ, and only such panels are
computed here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from depthbench.analysis.cells import INSTANCE, PANEL, Curves
from depthbench.analysis.efficiency import efficiency, thresholds

SIZE = "forward_flops"


def compute_panels(points: pd.DataFrame) -> list[str]:
    """Panels of ``points`` (:attr:`Curves.points`) whose every cell has forward FLOPs
    recorded and some cell's differ from ``2 n_params``."""
    flops = points[SIZE].astype(float)
    counted = flops.notna().groupby(points[PANEL]).all()
    other = (flops != 2.0 * points["n_params"].astype(float)).groupby(points[PANEL]).any()
    return sorted(counted.index[counted & other])


def unrecorded(points: pd.DataFrame) -> list[str]:
    """Instances (task and model) with a cell whose forward FLOPs were not recorded
    (weight-shared rows written before schema 6)."""
    missing = points[SIZE].isna().groupby(points[INSTANCE]).any()
    return sorted(missing.index[missing])


def matched_flops(
    c: Curves, eps: Mapping[str, Sequence[float]]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``F_d(eps)``, the forward FLOPs per sample at which depth d first reaches eps
    (:func:`~depthbench.analysis.efficiency.thresholds` on ``forward_flops``), and
    ``E^F_d(eps) = F_1(eps) / F_d(eps)`` (:func:`~depthbench.analysis.efficiency.efficiency`),
    for the :func:`compute_panels` of ``c``; both empty where there are none."""
    keep = c.points[PANEL].isin(compute_panels(c.points)).to_numpy()
    if not keep.any():
        return pd.DataFrame(), pd.DataFrame()
    own = Curves(c.points[keep], c.per_replicate[keep])
    f = thresholds(own, eps, SIZE)
    return f, efficiency(f)
