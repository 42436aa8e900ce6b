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


def _ends(replicates: Sequence[Replicate]) -> tuple[list[float], list[float]]:
    """Sorted lower ends and sorted upper ends of the replicates, ``k`` each."""
    pairs = [bounds(v, c) for v, c in replicates]
    return sorted(p[0] for p in pairs), sorted(p[1] for p in pairs)


def _mark(replicates: Sequence[Replicate], low: float, r: int) -> str:
    """The mark of "the r-th smallest replicate is at least ``low``": ``">"`` where it
    must lie strictly above (fewer than ``r`` replicates can be at or below ``low``,
    since a ``">"`` replicate lies strictly above its value), else ``">="``."""
    can = 0
    for value, censor in replicates:
        start = bounds(value, censor)[0]
        can += start < low or (start == low and censor != ">")
    return ">" if can < r else ">="


def censored_median(replicates: Sequence[Replicate]) -> Censored:
    """The median over replicates, each an interval: from the median of the lower ends
    to the median of the upper ends (the median is monotone in every replicate).
    Exact replicates give the plain median; ``{>10, >10, undetermined}`` gives
    ``> 10``, ``{3, >5, undetermined}`` gives ``>= 3`` (:func:`_mark`); no replicates
    give undetermined."""
    k = len(replicates)
    if not k:
        return Censored(math.nan, UNDETERMINED)
    lows, highs = _ends(replicates)
    middle = [(k - 1) // 2, k // 2]  # 0-based ranks whose mean is the median
    strict = any(_mark(replicates, lows[i], i + 1) == ">" for i in middle)
    with np.errstate(invalid="ignore"):  # inf + inf in an even count's middle pair
        low, high = float(np.median(lows)), float(np.median(highs))
    return summarise(low, high, ">" if strict else ">=")


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
    """One end of the interval, an order statistic known to lie in ``[low, high]``
    (``lower``: the mark of its lower bound, :func:`_mark`): the bound on the side that
    widens the interval (the lower end's low, the upper end's high), else the other
    side's bound."""
    if low == high:
        return low, ""
    if upper_end and high < math.inf:
        return high, "<="
    if low > 0:
        return low, lower
    if high < math.inf:
        return high, "<="
    return math.nan, UNDETERMINED


def censored_interval(replicates: Sequence[Replicate], level: float = LEVEL) -> Spread:
    """The distribution-free interval ``[x_(j), x_(k+1-j)]`` for the median over ``k``
    replicates (:func:`~depthbench.analysis.intervals.rank`), each end an order
    statistic of intervals: the j-th smallest true value lies between the j-th smallest
    lower end and the j-th smallest upper end. With every replicate exact this is
    :func:`~depthbench.analysis.intervals.median_interval` for two or more; its
    coverage holds for the true values whatever the censoring, since the printed ends
    are at least as wide. One replicate or none: :data:`NO_SPREAD`."""
    k = len(replicates)
    if k < 2:
        return NO_SPREAD
    j, coverage = rank(k, level)
    lows, highs = _ends(replicates)
    i, m = j - 1, k - j  # 0-based ranks of the two ends
    lo = _end(lows[i], highs[i], _mark(replicates, lows[i], i + 1), upper_end=False)
    hi = _end(lows[m], highs[m], _mark(replicates, lows[m], m + 1), upper_end=True)
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


def replicates_needed(tests: int, alpha: float = 0.05) -> int:
    """The fewest paired replicates with which one of ``tests`` sign tests can pass
    Holm's adjustment at ``alpha``: its smallest p is ``tests * 2^-n``."""
    return max(1, math.ceil(math.log2(max(tests, 1) / alpha)))


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
