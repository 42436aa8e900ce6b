"""Lower bounds a theorem puts on the test_metric of every network of a given shape:
what no training can beat, read from stored rows by the analysis.

Each bound is a pure function of the instance's theory values and the network's
shape; :func:`floor` applies the one that holds for a row, or gives NaN.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from depthbench.schema import theory_column

#: the theory key of the sawtooth family's alternating-point set size n = 2^k
AP_POINTS = "ap_points"


def sawtooth_points(points: int, depth: int, width: int) -> float:
    """Telgarsky (2015, arXiv 1509.08101, Sec. 2): the error rate on the n-ap (``points``
    alternating points x_i = i/n, y_i = i mod 2) of any ReLU network with ``depth``
    hidden layers of at most ``width`` units is at least ``(n - 4t) / (3n)``, since the
    network is t-sawtooth with ``t = (2 width)^depth`` and a t-sawtooth function errs on
    that share of the n-ap. Theorem 1.1 is the case ``width <= 2^((k-3)/depth - 1)``,
    where ``t <= n/8`` and the bound is 1/6. 0 where it says nothing."""
    t = (2 * width) ** depth  # exact integer: no overflow at depth 12
    return max(0.0, (points - 4 * t) / (3 * points))


def floor(rows: pd.DataFrame) -> pd.Series:
    """Per row: the lower bound on its test_metric that a theorem gives for its task
    and shape, NaN where none applies. Today: :func:`sawtooth_points` for plain ReLU
    ``mlp`` rows of ``sawtooth`` in ``points`` mode."""
    out = pd.Series(np.nan, index=rows.index, dtype=float)
    points = theory_column(AP_POINTS)
    if points not in rows:
        return out

    def column(name: str) -> pd.Series:
        return rows[name] if name in rows else pd.Series(None, index=rows.index, dtype=object)

    applies = (
        column("task").eq("sawtooth")
        & column("task.mode").eq("points")
        & column("model").eq("mlp")
        & column("model.activation").eq("relu")
        & column("model.residual").eq(False)
        & rows["width"].notna()
    )
    for i in rows.index[applies.fillna(False).astype(bool)]:
        row = rows.loc[i]
        out[i] = sawtooth_points(int(row[points]), int(row["depth"]), int(row["width"]))
    return out
