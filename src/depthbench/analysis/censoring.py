"""Interval-censored replicates: medians, order-statistic intervals and paired sign
tests over per-replicate values some of which are bounds (docs/science.md,
"Censoring").

A replicate's value is a pair ``(value, censor)``: ``""`` exact; ``">"`` or ``">="``
a lower bound (the true value lies in ``[value, inf)``); ``"<="`` an upper bound
(``[0, value]``); ``"undetermined"`` (value NaN: ``[0, inf)``, it could lie anywhere).
The quantities censored here (sizes, ratios of sizes) are positive, so 0 is the
open lower end.

A statistic that is monotone in each replicate (a median, an order statistic) of
intervals is the interval from its value at every replicate's lower end to its value
at every upper end (Turnbull 1976, JRSS B 38; Meeker & Escobar, *Statistical Methods
for Reliability Data*, ch. 3: interval censoring). :func:`summarise` writes such an
interval back as a point, a one-sided bound, a two-sided interval (``"in"``) or
``"undetermined"``, whichever it is.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from depthbench.analysis.intervals import LEVEL, rank

LOWER = (">", ">=")  # censor marks of lower bounds (sizes, ratios)
UPPER = ("<=",)
BETWEEN = "in"  # a two-sided interval: value <= truth <= value_hi
UNDETERMINED = "undetermined"

Replicate = tuple[float, str]  # (value, censor) of one replicate


def bounds(value: float, censor: str) -> tuple[float, float]:
    """The interval ``[low, high]`` a replicate's ``(value, censor)`` allows."""
    if censor == UNDETERMINED or math.isnan(value):
        return 0.0, math.inf
    if censor in LOWER:
        return value, math.inf
    if censor in UPPER:
        return 0.0, value
    if censor:
        raise ValueError(f"unknown censor mark {censor!r}; allowed: '', >, >=, <=, undetermined")
    return value, value


@dataclass(frozen=True)
class Censored:
    """A summary whose truth lies in ``[value, value_hi]`` (``censor`` ``"in"``), or
    at ``value`` exactly (``""``), at or above it (``lower`` mark), at or below it
    (``"<="``), or anywhere (``"undetermined"``, value NaN). ``value_hi`` is NaN unless
    the interval is two-sided."""

    value: float
    censor: str
    value_hi: float = math.nan


def summarise(low: float, high: float, lower: str) -> Censored:
    """``[low, high]`` written as a point, a bound (``lower`` or ``"<="``), a two-sided
    interval, or undetermined."""
    if low == high:
        return Censored(low, "")
    if high == math.inf:
        return Censored(low, lower) if low > 0 else Censored(math.nan, UNDETERMINED)
    if low <= 0:
        return Censored(high, "<=")
    return Censored(low, BETWEEN, high)


def _ends(replicates: Sequence[Replicate]) -> tuple[np.ndarray, np.ndarray]:
    """Sorted lower ends and sorted upper ends of the replicates, ``[k]`` each."""
    pairs = np.array([bounds(v, c) for v, c in replicates], dtype=float).reshape(-1, 2)
    return np.sort(pairs[:, 0]), np.sort(pairs[:, 1])


def censored_median(replicates: Sequence[Replicate], lower: str) -> Censored:
    """The median over replicates, each an interval: from the median of the lower ends
    to the median of the upper ends (the median is monotone in every replicate).
    Exact replicates give the plain median; ``{>=10, >=10, undetermined}`` gives
    ``>= 10``; no replicates give undetermined."""
    if not len(replicates):
        return Censored(math.nan, UNDETERMINED)
    lows, highs = _ends(replicates)
    with np.errstate(invalid="ignore"):  # inf + inf in an even count's middle pair
        return summarise(float(np.median(lows)), float(np.median(highs)), lower)


@dataclass(frozen=True)
class Spread:
    """The order-statistic interval of the median over censored replicates: its ends
    ``lo`` and ``hi``, each with its own mark (``hi`` ``">"``: that replicate rank lies
    above ``hi``, the interval is open there; ``"undetermined"``: nothing is known),
    and the interval's coverage (:func:`~depthbench.analysis.intervals.median_interval`)."""

    lo: float
    lo_censor: str
    hi: float
    hi_censor: str
    coverage: float


NO_SPREAD = Spread(math.nan, "", math.nan, "", math.nan)


def _end(low: float, high: float, lower: str, upper_end: bool) -> tuple[float, str]:
    """One end of the interval, an order statistic known to lie in ``[low, high]``: the
    bound on the side that widens the interval (the lower end's low, the upper end's
    high), else the other side's bound."""
    if low == high:
        return low, ""
    if upper_end and high < math.inf:
        return high, "<="
    if low > 0:
        return low, lower
    if high < math.inf:
        return high, "<="
    return math.nan, UNDETERMINED


def censored_interval(replicates: Sequence[Replicate], lower: str, level: float = LEVEL) -> Spread:
    """The distribution-free interval ``[x_(j), x_(k+1-j)]`` for the median over ``k``
    replicates (:func:`~depthbench.analysis.intervals.rank`), each end an order
    statistic of intervals: the j-th smallest true value lies between the j-th smallest
    lower end and the j-th smallest upper end. With every replicate exact this is
    :func:`~depthbench.analysis.intervals.median_interval`; its coverage holds for the
    true values whatever the censoring, since the printed ends are at least as wide.
    One replicate or none: :data:`NO_SPREAD`."""
    k = len(replicates)
    if k < 2:
        return NO_SPREAD
    j, coverage = rank(k, level)
    lows, highs = _ends(replicates)
    lo = _end(float(lows[j - 1]), float(highs[j - 1]), lower, upper_end=False)
    hi = _end(float(lows[k - j]), float(highs[k - j]), lower, upper_end=True)
    return Spread(lo[0], lo[1], hi[0], hi[1], coverage)


def above(replicates: Sequence[Replicate], threshold: float = 1.0) -> tuple[int, int]:
    """``(k, n)``: how many of the ``n`` replicates lie certainly above ``threshold``
    (their whole interval is), for a one-sided sign test."""
    lows = [bounds(v, c)[0] for v, c in replicates]
    return sum(low > threshold for low in lows), len(lows)


def sign_test(k: int, n: int) -> float:
    """One-sided exact sign test: ``P(Binomial(n, 1/2) >= k)``, the p-value of ``k``
    of ``n`` paired replicates on the claimed side under the null that each side is
    equally likely (Conover 1999, section 3.4). Replicates whose side is unknown (a
    censored value straddling the threshold) count in ``n`` but not in ``k``: the test
    is conservative. ``n = 0``: 1."""
    if not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")
    return sum(math.comb(n, i) for i in range(k, n + 1)) / 2**n


def holm(p: Sequence[float]) -> list[float]:
    """Holm's step-down adjustment of the p-values of one family of tests (Holm 1979,
    Scand. J. Statist. 6): the i-th smallest times ``m - i + 1``, made non-decreasing,
    capped at 1; NaN entries are not tests and stay NaN."""
    values = np.asarray(p, dtype=float)
    tests = np.flatnonzero(~np.isnan(values))
    order = tests[np.argsort(values[tests], kind="stable")]
    m = len(order)
    out = np.full(values.shape, np.nan)
    running = 0.0
    for i, index in enumerate(order):
        running = max(running, min(1.0, (m - i) * float(values[index])))
        out[index] = running
    return out.tolist()
