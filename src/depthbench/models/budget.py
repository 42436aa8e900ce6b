"""Solve a model's width from a parameter budget (docs/science.md, "Budget")."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from depthbench.schema import BUDGET_TOLERANCE

TOLERANCE = BUDGET_TOLERANCE  # a feasible width misses the budget by at most this fraction


@dataclass(frozen=True)
class Fit:
    """The outcome of fitting one (depth, budget) cell.

    ``width``, ``n_params``, ``n_hidden`` and ``forward_flops`` (one sample's forward
    FLOPs) are set when the cell is feasible; otherwise ``reason`` says why not
    (``status=infeasible`` rows carry it).
    """

    width: int | None
    n_params: int | None
    reason: str | None = None
    n_hidden: int | None = None
    forward_flops: int | None = None

    @property
    def feasible(self) -> bool:
        return self.reason is None


def solve_width(budget: int, count: Callable[[int], int], max_width: int = 1 << 20) -> Fit:
    """The width whose exact parameter count is nearest ``budget``.

    ``count(width)`` must increase with width. The cell is infeasible when even
    width 1 overshoots the budget by more than :data:`TOLERANCE` (the solved
    width would be < 1), or when the nearest width misses it by more than that.
    """
    smallest = count(1)
    if smallest > budget * (1 + TOLERANCE):
        return Fit(None, None, f"width < 1: width 1 already has {smallest} parameters")
    lo, hi = 1, 2  # invariant: count(lo) < budget <= count(hi) once the loop ends
    while count(hi) < budget:
        lo, hi = hi, hi * 2
        if hi > max_width:
            return Fit(None, None, f"needs width > {max_width}")
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if count(mid) < budget else (lo, mid)
    width = min((lo, hi), key=lambda w: (abs(count(w) - budget), w))
    n_params = count(width)
    miss = abs(n_params - budget) / budget
    if miss > TOLERANCE:
        return Fit(
            None,
            None,
            f"nearest width {width} has {n_params} parameters, {miss:.0%} off the budget",
        )
    return Fit(width, n_params)
