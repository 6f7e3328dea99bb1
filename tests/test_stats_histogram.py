"""Histogram statistics: Prometheus' histogram_quantile rules, and drift from bucket counts.

The real-Prometheus comparison of histogram_quantile is in test_drift_promql.py;
these pin the documented results without a server.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.spatial import distance

from aivitals import stats
from aivitals.stats import StatsError

INF = math.inf


@pytest.mark.parametrize(
    ("q", "buckets", "expected"),
    [
        (0.5, [(1.0, 2.0), (2.0, 4.0), (INF, 4.0)], 1.0),  # rank 2 ends the first bucket exactly
        (0.75, [(1.0, 2.0), (2.0, 4.0), (INF, 4.0)], 1.5),  # linear inside (1, 2]
        (0.25, [(1.0, 2.0), (2.0, 4.0), (INF, 4.0)], 0.5),  # the lowest bucket starts at 0
        (0.5, [(-1.0, 3.0), (2.0, 4.0), (INF, 4.0)], -1.0),  # lowest bound <= 0: returned as is
        (0.99, [(1.0, 2.0), (2.0, 4.0), (INF, 10.0)], 2.0),  # rank in +Inf: second-highest bound
        (0.5, [(1.0, 0.0), (INF, 0.0)], math.nan),  # no observations
        (0.5, [(1.0, 3.0), (2.0, 4.0)], math.nan),  # no +Inf bucket
        (0.5, [(INF, 4.0)], math.nan),  # a lone +Inf bucket
        (-0.1, [(1.0, 1.0), (INF, 1.0)], -INF),
        (1.1, [(1.0, 1.0), (INF, 1.0)], INF),
        (math.nan, [(1.0, 1.0), (INF, 1.0)], math.nan),
        (0.5, [(2.0, 1.0), (1.0, 5.0), (INF, 6.0)], 0.6),  # unsorted input is sorted; 5 -> (0,1]
        (0.5, [(1.0, 5.0), (2.0, 3.0), (INF, 6.0)], 0.6),  # falling count raised to the running max
        (0.5, [(1.0, 2.0), (1.0, 2.0), (INF, 8.0)], 1.0),  # equal bounds merged: (1.0, 4.0)
    ],
)
def test_histogram_quantile_follows_prometheus(q: float, buckets: list[tuple[float, float]], expected: float) -> None:
    result = stats.histogram_quantile(q, buckets)
    if math.isnan(expected):
        assert math.isnan(result)
    else:
        assert result == pytest.approx(expected, rel=1e-15)


def test_histogram_quantile_refuses_nan_counts() -> None:
    with pytest.raises(StatsError, match="NaN"):
        stats.histogram_quantile(0.5, [(1.0, math.nan), (INF, 1.0)])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_drift_from_bucket_counts_equals_drift_of_the_samples_binned_alike(seed: int) -> None:
    rng = np.random.default_rng(seed)
    reference, current = rng.normal(size=2000), rng.normal(0.4, 1.1, size=700)
    edges = stats.quantile_edges(reference, 10)
    shares = stats.bin_counts(reference, edges) / reference.size
    counts = stats.bin_counts(current, edges)
    assert stats.psi_from_counts(shares, counts) == pytest.approx(stats.psi(reference, current, bins=10), rel=1e-12)
    assert stats.js_from_counts(shares, counts) == pytest.approx(distance.jensenshannon(counts, shares, base=2),
                                                                 rel=1e-12)
    # at the edges the empirical CDF gap is the KS statistic restricted to those points: a lower bound
    cdf_gap = max(abs(np.mean(current <= e) - np.mean(reference <= e)) for e in edges)
    assert stats.ks_from_counts(shares, counts) == pytest.approx(cdf_gap, rel=1e-12)
    assert stats.ks_from_counts(shares, counts) <= stats.ks_2samp(reference, current).statistic + 1e-12


def test_cumulative_shares_end_at_exactly_one() -> None:
    assert stats.cumulative_shares([0.1] * 10)[-1] == 1.0


def test_drift_from_no_current_observations_is_an_error_not_zero() -> None:
    for call in (stats.psi_from_counts, stats.js_from_counts, stats.ks_from_counts):
        with pytest.raises(StatsError, match="no current observations"):
            call([0.5, 0.5], [0.0, 0.0])
    with pytest.raises(StatsError, match="must not decrease"):
        stats.ks_from_cumulative([0.5, 1.0], [3.0, 2.0])
