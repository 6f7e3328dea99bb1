"""Prometheus's arithmetic written out, for the rule tests' hand-computed values.

The same float operations in the same order as Prometheus 2.x, so promtool can
compare the results exactly.
"""

from __future__ import annotations

import math
from collections.abc import Mapping


def bucket_quantile(q: float, buckets: Mapping[str, float]) -> float:
    """Prometheus's histogram_quantile over ``{le: cumulative count}`` (aivitals.stats is the oracle)."""
    from ...stats.histogram import histogram_quantile

    return histogram_quantile(q, (((math.inf if le == "+Inf" else float(le)), count) for le, count in buckets.items()))


def prom_rate(per_second: float, window: float) -> float:
    """rate() of a counter growing ``per_second`` over samples that span the window exactly.

    Prometheus 2.x computes increase x (extrapolation factor / range), and the
    factor here is 1 / range: the same float steps, so the same last bit.
    """
    return (per_second * window) * (1.0 / window)


def quantile_over_time(q: float, values: list[float]) -> float:
    """Prometheus 2.x quantile(): linear interpolation between the closest ranks."""
    values = sorted(values)
    rank = q * (len(values) - 1)
    lower = max(0, math.floor(rank))
    upper = min(len(values) - 1, lower + 1)
    weight = rank - math.floor(rank)
    return values[lower] * (1 - weight) + values[upper] * weight


def quantile_of(q: float, buckets: Mapping[str, float], window: float) -> float:
    """histogram_quantile over rate() of buckets growing ``{le: per second}``, over ``window`` seconds."""
    return bucket_quantile(q, {le: prom_rate(v, window) for le, v in buckets.items()})
