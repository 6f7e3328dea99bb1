"""Bin edges at reference quantiles, and counting values into them the way Prometheus does.

A bin is ``(previous edge, edge]``: a value equal to an edge falls in the bin
that edge closes, exactly as a histogram's ``le`` bucket counts it. The last
bin is ``(last edge, +Inf)``. Reference profiles, the live recorder, the
offline CLI and the PromQL rules all use this one rule, so their numbers agree.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._checks import FloatArray, StatsError, vector


def quantile_edges(reference: Any, bins: int = 10) -> FloatArray:
    """Upper edges at the reference's ``1/bins .. (bins-1)/bins`` quantiles, deduplicated.

    numpy's default (linear) quantile is used. Ties collapse edges, so a
    feature with few distinct values gets fewer bins; a constant feature gets
    one edge (its value): every reference value sits in the first bin, and any
    different production value shows up as drift.
    """
    if not isinstance(bins, int) or isinstance(bins, bool) or bins < 2:
        raise StatsError(f"bins must be an integer >= 2, got {bins!r}")
    data = vector(reference, "reference")
    levels = np.arange(1, bins) / bins
    edges = np.unique(np.quantile(data, levels))
    return np.asarray(edges, dtype=np.float64)


def bin_index(values: FloatArray, edges: FloatArray) -> NDArray[np.intp]:
    """The bin of each value: ``i`` such that ``edges[i-1] < v <= edges[i]``; ``len(edges)`` is +Inf."""
    return np.searchsorted(edges, values, side="left")


def bin_counts(values: Any, edges: Any) -> FloatArray:
    """Counts per bin (``len(edges) + 1`` of them, the last for values above every edge)."""
    data = vector(values, "values", min_size=0)
    upper = vector(edges, "edges")
    if np.any(np.diff(upper) <= 0):
        raise StatsError("edges must be strictly increasing")
    return np.bincount(bin_index(data, upper), minlength=upper.size + 1).astype(np.float64)
