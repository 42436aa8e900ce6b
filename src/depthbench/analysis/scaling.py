"""Scaling-law fits: ``test_metric ~ c * n_params^(-alpha)`` per panel and depth."""

from __future__ import annotations

import numpy as np
import pandas as pd

from depthbench.analysis.cells import INSTANCE, PANEL, Curves
from depthbench.analysis.intervals import median_interval

MIN_POINTS = 3  # cells with a positive tuned value needed for a fit
FLAT = 1e-9  # |slope| below this is floating-point noise around 0 (float64 lstsq)


def power_law(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Least-squares fit of ``log y = log c - alpha log x`` over the points with
    ``y > 0``; returns ``(alpha, c)``, NaN with fewer than :data:`MIN_POINTS`; an
    exponent within :data:`FLAT` of zero is 0 (its last bits differ between BLAS builds)."""
    keep = np.isfinite(y) & (y > 0)
    if keep.sum() < MIN_POINTS:
        return np.nan, np.nan
    slope, intercept = np.polyfit(np.log(x[keep]), np.log(y[keep]), 1)
    if abs(slope) < FLAT:  # a flat curve: zero, not a machine's last bits of it
        slope = 0.0
    return float(-slope) + 0.0, float(np.exp(intercept))


def scaling_fits(c: Curves) -> pd.DataFrame:
    """``alpha`` and ``c`` of the selected test_metric against n_params, per panel and
    depth: medians over replicates of each replicate's own fit, ``alpha`` with the
    order-statistic interval of its median.

    Columns: ``panel``, ``instance``, ``n_train``, ``depth``, ``alpha``, ``lo``,
    ``hi``, ``coverage`` (of that interval), ``c``, ``points`` (cells fitted). A flat
    or noisy curve gives alpha near
    0 with a wide interval: read it before quoting an exponent.
    """
    rows = []
    for (panel, depth), part in c.points.groupby([PANEL, "depth"], sort=True):
        x = part["n_params"].to_numpy(float)
        own = c.per_replicate.loc[part.index]
        found = np.array([power_law(x, own[r].to_numpy(float)) for r in own.columns])  # [R, 2]
        if np.isnan(found[:, 0]).all():
            continue
        alpha, coef = np.nanmedian(found, axis=0)
        lo, hi, cover = median_interval(found[:, 0])
        rows.append(
            {
                PANEL: panel,
                INSTANCE: part[INSTANCE].iloc[0],
                "n_train": part["n_train"].iloc[0],
                "depth": depth,
                "alpha": float(alpha),
                "lo": lo,
                "hi": hi,
                "coverage": cover,
                "c": float(coef),
                "points": int((part["tuned"] > 0).sum()),
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            PANEL,
            INSTANCE,
            "n_train",
            "depth",
            "alpha",
            "lo",
            "hi",
            "coverage",
            "c",
            "points",
        ],
    )
