"""Drift statistics on raw samples agree with scipy (and PSI with its formula written out independently)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps
from scipy.spatial import distance

from aivitals import stats
from aivitals.stats import StatsError

SEEDS = [0, 1, 2]


def _psi_by_hand(reference: np.ndarray, current: np.ndarray, bins: int, eps: float) -> float:
    edges = np.unique(np.quantile(reference, np.arange(1, bins) / bins))
    total = 0.0
    lower = -math.inf
    for upper in [*edges.tolist(), math.inf]:
        r = max(np.mean((reference > lower) & (reference <= upper)), eps)
        c = max(np.mean((current > lower) & (current <= upper)), eps)
        total += (c - r) * math.log(c / r)
        lower = upper
    return total


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("bins", [2, 5, 10, 20])
def test_psi_matches_its_formula(seed: int, bins: int) -> None:
    rng = np.random.default_rng(seed)
    reference = rng.normal(size=500 + 100 * seed)
    current = rng.normal(0.3, 1.2, size=300)
    expected = _psi_by_hand(reference, current, bins, stats.PSI_EPSILON)
    assert stats.psi(reference, current, bins=bins) == pytest.approx(expected, rel=1e-12)


def test_psi_of_a_sample_with_itself_is_zero_and_a_shift_is_large() -> None:
    x = np.random.default_rng(3).normal(size=1000)
    assert stats.psi(x, x) == 0.0
    assert stats.psi(x, x + 3) > 1.0


def test_psi_floors_an_empty_bin_at_the_documented_epsilon() -> None:
    # current fills only the first of two bins: the empty one counts as PSI_EPSILON, not zero
    eps = stats.PSI_EPSILON
    expected = (1 - 0.5) * math.log(1 / 0.5) + (eps - 0.5) * math.log(eps / 0.5)
    assert stats.psi_from_proportions([0.5, 0.5], [1.0, 0.0]) == pytest.approx(expected, rel=1e-12)


def test_psi_of_a_constant_reference_puts_other_values_in_the_bin_above() -> None:
    assert stats.quantile_edges([2.0] * 10).tolist() == [2.0]
    assert stats.psi([2.0] * 10, [2.0] * 10) == 0.0
    assert stats.psi([2.0] * 10, [2.0, 3.0]) > 0.15


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("n1", "n2"), [(1, 1), (5, 7), (20, 20), (50, 120), (300, 299), (1000, 2000), (37, 10_000)])
def test_ks_2samp_matches_scipy_exact(seed: int, n1: int, n2: int) -> None:
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=n1), rng.normal(0.2, size=n2)
    ours, theirs = stats.ks_2samp(a, b), sps.ks_2samp(a, b, method="auto")
    assert ours.method == "exact"
    assert ours.statistic == pytest.approx(theirs.statistic, rel=1e-12)
    assert ours.pvalue == pytest.approx(theirs.pvalue, rel=1e-9, abs=1e-300)


@pytest.mark.parametrize("seed", SEEDS)
def test_ks_2samp_with_ties_matches_scipy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a, b = rng.integers(0, 5, 80).astype(float), rng.integers(0, 6, 60).astype(float)
    ours, theirs = stats.ks_2samp(a, b), sps.ks_2samp(a, b)
    assert ours.statistic == pytest.approx(theirs.statistic, rel=1e-12)
    assert ours.pvalue == pytest.approx(theirs.pvalue, rel=1e-9)


def test_ks_2samp_of_separated_samples_has_a_tiny_exact_pvalue() -> None:
    ours, theirs = stats.ks_2samp(np.arange(30.0), np.arange(30.0) + 100), sps.ks_2samp(np.arange(30.0),
                                                                                         np.arange(30.0) + 100)
    assert ours.statistic == 1.0
    assert ours.pvalue == pytest.approx(theirs.pvalue, rel=1e-9)


@pytest.mark.parametrize(("n1", "n2", "shift"), [(12_000, 50, 0.1), (20_000, 15_000, 0.03), (11_000, 11_000, 0.05)])
def test_ks_2samp_asymptotic_is_close_to_scipy_and_exactly_stephens(n1: int, n2: int, shift: float) -> None:
    rng = np.random.default_rng(n1)
    a, b = rng.normal(size=n1), rng.normal(shift, size=n2)
    ours, theirs = stats.ks_2samp(a, b), sps.ks_2samp(a, b, method="auto")
    root = math.sqrt(n1 * n2 / (n1 + n2))
    assert ours.method == "asymptotic"
    assert ours.statistic == pytest.approx(theirs.statistic, rel=1e-12)
    assert ours.pvalue == pytest.approx(sps.kstwobign.sf((root + 0.12 + 0.11 / root) * ours.statistic), rel=1e-10)
    assert ours.pvalue == pytest.approx(theirs.pvalue, rel=0.03)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("base", [2.0, None, 10.0])
def test_js_distance_matches_scipy(seed: int, base: float | None) -> None:
    rng = np.random.default_rng(seed)
    p, q = rng.random(12), rng.random(12)
    p[3] = 0.0  # an empty bin on one side
    assert stats.js_distance(p, q, base=base) == pytest.approx(distance.jensenshannon(p, q, base=base), rel=1e-12)


def test_js_distance_is_zero_for_equal_and_one_for_disjoint_in_base_two() -> None:
    assert stats.js_distance([1, 2, 3], [2, 4, 6]) == 0.0
    assert stats.js_distance([1, 0], [0, 1]) == pytest.approx(1.0, rel=1e-15)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("n1", "n2"), [(1, 1), (10, 3), (500, 800)])
def test_wasserstein_matches_scipy(seed: int, n1: int, n2: int) -> None:
    rng = np.random.default_rng(seed)
    u, v = rng.exponential(size=n1), rng.normal(1, 2, size=n2).round(1)  # rounding makes ties
    assert stats.wasserstein_distance(u, v) == pytest.approx(sps.wasserstein_distance(u, v), rel=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_chisquare_matches_scipy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    observed = rng.integers(5, 100, 6).astype(float)
    expected = rng.random(6)
    expected *= observed.sum() / expected.sum()
    for exp in (None, expected):
        ours, theirs = stats.chisquare(observed, exp), sps.chisquare(observed, exp)
        assert ours.statistic == pytest.approx(theirs.statistic, rel=1e-12)
        assert ours.pvalue == pytest.approx(theirs.pvalue, rel=1e-10)
        assert ours.dof == 5


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", [(2, 2), (2, 5), (3, 4)])
@pytest.mark.parametrize("correction", [True, False])
def test_chi2_contingency_matches_scipy(seed: int, shape: tuple[int, int], correction: bool) -> None:
    table = np.random.default_rng(seed).integers(1, 60, shape)
    ours = stats.chi2_contingency(table, correction=correction)
    statistic, pvalue, dof, _ = sps.chi2_contingency(table, correction=correction)
    assert ours.statistic == pytest.approx(statistic, rel=1e-12)
    assert ours.pvalue == pytest.approx(pvalue, rel=1e-10)
    assert ours.dof == dof


def test_chi2_contingency_refuses_an_empty_category() -> None:
    with pytest.raises(StatsError, match="column of the table sums to zero"):
        stats.chi2_contingency([[1, 0, 3], [2, 0, 4]])


@pytest.mark.parametrize(
    "bad",
    [[], [1.0, math.nan], [1.0, math.inf], [-math.inf], "abc", ["a", "b"], [[1.0, 2.0]], [None, 1.0]],
    ids=["empty", "nan", "inf", "-inf", "string", "strings", "2-d", "none"],
)
@pytest.mark.parametrize(
    "call",
    [lambda x: stats.psi(x, [1.0, 2.0]), lambda x: stats.ks_2samp([1.0, 2.0], x),
     lambda x: stats.wasserstein_distance(x, [1.0]), lambda x: stats.js_distance(x, [1.0, 1.0])],
    ids=["psi", "ks", "wasserstein", "js"],
)
def test_bad_samples_are_refused_with_a_stats_error(call: object, bad: object) -> None:
    with pytest.raises(StatsError) as info:
        call(bad)  # type: ignore[operator]
    assert isinstance(info.value, ValueError) and str(info.value)


def test_mismatched_bins_and_bad_parameters_are_refused() -> None:
    with pytest.raises(StatsError, match="bins"):
        stats.psi_from_proportions([0.5, 0.5], [1.0])
    with pytest.raises(StatsError, match="bins must be an integer >= 2"):
        stats.psi([1.0, 2.0], [1.0], bins=1)
    with pytest.raises(StatsError, match="positive sum"):
        stats.js_distance([0, 0], [1, 1])
    with pytest.raises(StatsError, match="must agree"):
        stats.chisquare([1, 2], [5, 5])
    with pytest.raises(StatsError, match="at least two categories"):
        stats.chisquare([3])


def test_constant_samples_match_scipy() -> None:
    same, other = [1.0] * 5, [1.0] * 7
    shifted = [2.0] * 7
    for a, b in ((same, other), (same, shifted)):
        ours, theirs = stats.ks_2samp(a, b), sps.ks_2samp(a, b)
        assert (ours.statistic, ours.pvalue) == pytest.approx((theirs.statistic, theirs.pvalue), rel=1e-12)
        assert stats.wasserstein_distance(a, b) == pytest.approx(sps.wasserstein_distance(a, b), abs=1e-15)
