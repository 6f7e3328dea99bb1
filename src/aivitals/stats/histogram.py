"""Statistics from histogram buckets: what PromQL computes, written out in numpy as its oracle.

``histogram_quantile`` follows Prometheus 2.x's ``bucketQuantile`` line by
line. The drift functions take per-bin current counts and the reference
profile's per-bin shares, and compute exactly what the recording rules in
:mod:`aivitals.catalogue.drift` compute, so a test can hold one to the other.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from ._checks import FloatArray, StatsError, counts
from .drift import PSI_EPSILON, _js, psi_from_proportions


def histogram_quantile(q: float, buckets: Iterable[tuple[float, float]]) -> float:
    """The ``q``-quantile of cumulative ``(upper_bound, count)`` buckets, as Prometheus computes it.

    Documented results, as Prometheus: q < 0 gives -Inf, q > 1 +Inf, NaN q
    NaN; no +Inf bucket, fewer than two buckets or zero observations give NaN.
    Buckets with the same bound are merged; counts that fall are raised to
    the running maximum. Within a bucket the quantile is interpolated
    linearly; the lowest bucket starts at 0 (or returns its bound when that
    is <= 0); a rank in the +Inf bucket returns the second-highest bound.
    """
    if math.isnan(q):
        return math.nan
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    pairs = sorted((float(b), float(c)) for b, c in buckets)
    if any(math.isnan(b) or math.isnan(c) for b, c in pairs):
        raise StatsError("bucket bounds and counts must not be NaN")
    if not pairs or pairs[-1][0] != math.inf:
        return math.nan
    merged: list[list[float]] = []
    for bound, count in pairs:  # coalesceBuckets
        if merged and merged[-1][0] == bound:
            merged[-1][1] += count
        else:
            merged.append([bound, count])
    running = -math.inf
    for bucket in merged:  # ensureMonotonic
        if bucket[1] > running:
            running = bucket[1]
        elif bucket[1] < running:
            bucket[1] = running
    if len(merged) < 2:
        return math.nan
    observations = merged[-1][1]
    if observations == 0:
        return math.nan
    rank = q * observations
    b = next((i for i in range(len(merged) - 1) if merged[i][1] >= rank), len(merged) - 1)
    if b == len(merged) - 1:
        return merged[-2][0]
    if b == 0 and merged[0][0] <= 0:
        return merged[0][0]
    start, end, count = 0.0, merged[b][0], merged[b][1]
    if b > 0:
        start = merged[b - 1][0]
        count -= merged[b - 1][1]
        rank -= merged[b - 1][1]
    return start + (end - start) * (rank / count)


def cumulative_shares(proportions: Any) -> FloatArray:
    """Per-bin shares to the cumulative shares exported beside ``le`` (the last is exactly 1)."""
    shares = counts(proportions, "proportions")
    cumulative = np.cumsum(shares)
    cumulative[-1] = 1.0
    return cumulative


def _current_shares(current_counts: Any, size: int) -> FloatArray:
    cur = counts(current_counts, "current counts")
    if cur.size != size:
        raise StatsError(f"reference has {size} bins, current {cur.size}")
    total = cur.sum()
    if total <= 0:
        raise StatsError("no current observations: drift is undefined, not zero")
    return cur / total


def psi_from_counts(reference_proportions: Any, current_counts: Any, eps: float = PSI_EPSILON) -> float:
    """PSI of per-bin current counts against the reference's per-bin shares (the ``psi`` rule)."""
    ref = counts(reference_proportions, "reference proportions")
    return psi_from_proportions(ref, _current_shares(current_counts, ref.size), eps)


def js_from_counts(reference_proportions: Any, current_counts: Any, base: float | None = 2.0) -> float:
    """Jensen-Shannon distance (base 2) of per-bin current counts against reference shares (the ``js`` rule).

    The reference shares are used as given, like the rule does.
    """
    ref = counts(reference_proportions, "reference proportions")
    return _js(_current_shares(current_counts, ref.size), ref, base)


def ks_from_cumulative(reference_cumulative: Any, current_cumulative: Any) -> float:
    """KS statistic at the bucket edges: ``max |F_cur(le) - F_ref(le)|`` (the ``ks`` rule).

    ``current_cumulative`` are histogram bucket counts (the last is +Inf);
    ``reference_cumulative`` the exported cumulative shares. Evaluated only
    at the edges, it is a lower bound of the KS statistic on raw values.
    """
    ref = counts(reference_cumulative, "reference cumulative shares")
    cur = counts(current_cumulative, "current cumulative counts")
    if ref.size != cur.size:
        raise StatsError(f"reference has {ref.size} buckets, current {cur.size}")
    if np.any(np.diff(cur) < 0) or np.any(np.diff(ref) < 0):
        raise StatsError("cumulative values must not decrease")
    if cur[-1] <= 0:
        raise StatsError("no current observations: drift is undefined, not zero")
    return float(np.max(np.abs(cur / cur[-1] - ref)))


def ks_from_counts(reference_proportions: Any, current_counts: Any) -> float:
    """:func:`ks_from_cumulative` from per-bin counts and shares."""
    cur = counts(current_counts, "current counts")
    return ks_from_cumulative(cumulative_shares(reference_proportions), np.cumsum(cur))
