"""depthbench.analysis.intervals: coverage by simulation and by enumeration, and PAV
against an independent min-max reference."""

import itertools
import math

import numpy as np
import pytest

from depthbench.analysis.intervals import LEVEL, describe, isotonic_decreasing, median_interval

REPS = 4000
DISTRIBUTIONS = {  # name: (seed, draw [reps, k], true median); own seeds, as numpy's
    # lognormal is exp of its normal stream and would repeat the normal's coverage
    "lognormal": (11, lambda rng, shape: rng.lognormal(0.0, 1.5, shape), 1.0),
    "normal": (12, lambda rng, shape: rng.normal(3.0, 2.0, shape), 3.0),
}


def rank(k: int, level: float = LEVEL) -> int:
    """The 1-based rank j that median_interval uses for k values: lo of 0..k-1 is j-1."""
    rng = np.random.default_rng(k)
    lo, hi, _ = median_interval(rng.permutation(k).astype(float), level)
    assert hi == k - 1 - lo
    return int(lo) + 1


def enumerated_coverage(k: int, j: int) -> float:
    """P(x_(j) <= median <= x_(k+1-j)) by listing all 2^k below/above patterns:
    the interval covers exactly when the count below the median lies in [j, k-j]."""
    hits = sum(j <= sum(bits) <= k - j for bits in itertools.product((0, 1), repeat=k))
    return hits / 2**k


@pytest.mark.parametrize("name", sorted(DISTRIBUTIONS))
@pytest.mark.parametrize("k", [2, 3, 5, 6, 10, 20])
def test_simulated_coverage_matches_returned(k, name):
    seed, draw, median = DISTRIBUTIONS[name]
    rng = np.random.default_rng([seed, k])
    samples = draw(rng, (REPS, k))
    intervals = np.array([median_interval(row) for row in samples])
    coverage = intervals[0, 2]
    assert np.all(intervals[:, 2] == coverage)
    empirical = np.mean((intervals[:, 0] <= median) & (median <= intervals[:, 1]))
    assert abs(empirical - coverage) <= 0.025, (k, name, empirical, coverage)
    if coverage >= 0.95:
        assert empirical >= 0.90
    assert (coverage >= LEVEL) == (k >= 6)


@pytest.mark.parametrize("k, coverage", [(2, 0.5), (3, 0.75)])
def test_few_seeds_give_the_range_and_say_so(k, coverage):
    values = np.array([4.0, -1.0, 2.5])[:k]
    lo, hi, got = median_interval(values)
    assert (lo, hi, got) == (values.min(), values.max(), coverage)
    assert describe(k).startswith("range over")
    assert f"{coverage:.0%}" in describe(k)


def binomial_coverage(k: int, j: int) -> float:
    """The same probability as a sum of binomial terms, for k too large to enumerate."""
    return sum(math.comb(k, i) for i in range(j, k - j + 1)) / 2**k


@pytest.mark.parametrize("k", [1, 2, 4, 5, 6, 7, 9, 12, 20, 33, 50])
@pytest.mark.parametrize("level", [LEVEL, 0.9, 0.99])
def test_coverage_is_the_binomial_sum_with_the_largest_rank(k, level):
    exact = enumerated_coverage if k <= 12 else binomial_coverage
    j = rank(k, level)
    _, _, coverage = median_interval(np.arange(k, dtype=float), level)
    assert coverage == pytest.approx(exact(k, j), abs=1e-12)
    assert coverage == pytest.approx(binomial_coverage(k, j), abs=1e-12)
    if j == 1 and coverage < level:
        assert coverage == pytest.approx(1 - 2 ** (1 - k))
    else:
        assert coverage >= level
        # the next rank inwards is either empty or falls below the level
        assert j + 1 > k - j or exact(k, j + 1) < level


def test_level_boundary():
    """A coverage equal to the level is enough; a hair below is not."""
    assert median_interval(np.arange(6.0), level=0.96875) == (0.0, 5.0, 0.96875)
    assert describe(6, level=0.96875).startswith("96.875% order-statistic interval")
    assert describe(6, level=0.97).startswith("range over 6 seeds")
    # k = 20: rank 6 covers 95.861% (1 - 2 * 21700 / 2^20), rank 7 88.468% (60460)
    assert median_interval(np.arange(20.0), level=0.9586)[:2] == (5.0, 14.0)
    assert median_interval(np.arange(20.0), level=0.8846)[:2] == (6.0, 13.0)
    assert median_interval(np.arange(20.0), level=0.8847)[:2] == (5.0, 14.0)
    assert median_interval(np.arange(20.0), level=1 - 2 * 21700 / 2**20)[:2] == (5.0, 14.0)
    # low levels reach the innermost ranks: k = 4, rank 2 covers C(4, 2) / 16
    assert median_interval(np.arange(4.0), level=0.375) == (1.0, 2.0, 0.375)
    assert median_interval(np.arange(3.0), level=0.01) == (0.0, 2.0, 0.75)


def test_nans_dropped_and_degenerate_sizes():
    lo, hi, coverage = median_interval(np.array([np.nan, 3.0, 1.0, np.nan, 2.0]))
    assert (lo, hi, coverage) == (1.0, 3.0, 0.75)
    assert median_interval(np.array([np.nan, 7.0])) == (7.0, 7.0, 0.0)
    assert all(math.isnan(v) for v in median_interval(np.array([np.nan])))
    assert all(math.isnan(v) for v in median_interval(np.array([])))
    with pytest.raises(ValueError):
        median_interval(np.arange(3.0), level=1.0)


def test_describe_labels():
    assert (
        describe(7) == "95% order-statistic interval for the median over 7 seeds (coverage 98.4%)"
    )
    assert describe(3) == "range over 3 seeds (covers the median with probability 75%)"
    assert describe(1) == "one seed: no interval"
    assert describe(0) == "no seeds: no interval"
    assert describe(20, unit="runs").startswith(
        "95% order-statistic interval for the median over 20 runs"
    )
    assert describe(5, level=0.9).startswith("90% order-statistic interval")


def pav_reference(y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The min-max formula (Barlow et al. 1972, theorem 1.4) for a non-increasing fit:
    f_i = min_{s <= i} max_{t >= i} Av(s, t), Av the weighted mean of y[s..t]."""
    k = len(y)
    mass = np.concatenate([[0.0], np.cumsum(w)])
    moment = np.concatenate([[0.0], np.cumsum(w * y)])
    av = np.full((k, k), np.nan)
    for s in range(k):
        for t in range(s, k):
            av[s, t] = (moment[t + 1] - moment[s]) / (mass[t + 1] - mass[s])
    return np.array(
        [min(max(av[s, t] for t in range(i, k)) for s in range(i + 1)) for i in range(k)]
    )


def sse(y, w, f):
    return float(np.sum(w * (y - f) ** 2))


def test_pav_fixed_cases():
    monotone = np.array([5.0, 4.0, 4.0, 1.0, -2.0])
    np.testing.assert_array_equal(isotonic_decreasing(monotone), monotone)
    np.testing.assert_allclose(
        isotonic_decreasing(np.array([3.0, 1.0, 2.0, 0.0])), [3.0, 1.5, 1.5, 0.0]
    )
    # weights pull the pooled value towards the heavier entry
    np.testing.assert_allclose(
        isotonic_decreasing(np.array([1.0, 3.0]), np.array([3.0, 1.0])), [1.5, 1.5]
    )
    np.testing.assert_allclose(
        isotonic_decreasing(np.array([1.0, 3.0]), np.array([1.0, 3.0])), [2.5, 2.5]
    )
    # NaNs stay in place and do not split the fit: 1 and 3 still pool across them
    fit = isotonic_decreasing(np.array([np.nan, 1.0, np.nan, 3.0, 0.0, np.nan]))
    np.testing.assert_array_equal(np.isnan(fit), [True, False, True, False, False, True])
    np.testing.assert_allclose(fit[[1, 3, 4]], [2.0, 2.0, 0.0])
    assert np.isnan(isotonic_decreasing(np.array([np.nan, np.nan]))).all()
    assert isotonic_decreasing(np.array([])).shape == (0,)
    with pytest.raises(ValueError):
        isotonic_decreasing(np.array([1.0, 2.0]), np.array([1.0, 0.0]))
    with pytest.raises(ValueError):
        isotonic_decreasing(np.array([1.0, -np.inf]))


def test_pav_matches_min_max_reference_on_random_inputs():
    rng = np.random.default_rng(7)
    for trial in range(200):
        k = int(rng.integers(1, 13))
        y = np.round(rng.normal(0.0, 1.0, k) - 0.3 * np.arange(k), 1)  # rounding makes ties
        w = rng.uniform(0.2, 3.0, k) if trial % 2 else np.ones(k)
        fit = isotonic_decreasing(y, w)
        np.testing.assert_allclose(fit, pav_reference(y, w), atol=1e-12)
        assert np.all(np.diff(fit) <= 1e-12)
        for _ in range(5):  # no non-increasing candidate does better
            candidate = np.sort(rng.normal(0.0, 1.5, k))[::-1]
            assert sse(y, w, fit) <= sse(y, w, candidate) + 1e-12
        # NaNs inserted anywhere leave the fit of the finite entries unchanged
        holes = np.insert(y, rng.integers(0, k + 1, 3), np.nan)
        w_holes = np.insert(w, np.flatnonzero(np.isnan(holes)) - np.arange(3), 9.9)
        fit_holes = isotonic_decreasing(holes, w_holes)
        np.testing.assert_array_equal(np.isnan(fit_holes), np.isnan(holes))
        np.testing.assert_allclose(fit_holes[~np.isnan(holes)], fit, atol=1e-12)
