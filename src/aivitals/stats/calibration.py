"""Calibration: does a stated confidence of 0.8 come true 80% of the time?

Bins follow ``sklearn.calibration.calibration_curve``: a bin is
``(lower, upper]`` (the first also holds 0), like a Prometheus ``le`` bucket
and like the sidecar's confidence bins, so the in-process number and the
recording rule agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._checks import FloatArray, StatsError, binary, probabilities, same_length


@dataclass(frozen=True)
class ReliabilityBins:
    """The non-empty bins of a reliability diagram: size, mean confidence, observed frequency."""

    count: FloatArray
    mean_confidence: FloatArray
    frequency: FloatArray


def reliability_bins(y_true: Any, y_prob: Any, n_bins: int = 10, strategy: str = "uniform") -> ReliabilityBins:
    """Group predictions into confidence bins.

    ``strategy="uniform"``: equal-width bins on [0, 1]. ``"quantile"``:
    equal-mass bins, edges at the predictions' quantiles (numpy's linear
    percentile, as scikit-learn); ties can leave some bins empty.
    ``y_true`` is 1 where the prediction came true (the positive class, or
    "was correct" when ``y_prob`` is the top-class confidence).
    """
    t = binary(y_true, "y_true")
    p = probabilities(y_prob, "y_prob")
    same_length(("y_true", t), ("y_prob", p))
    if not isinstance(n_bins, int) or isinstance(n_bins, bool) or n_bins < 1:
        raise StatsError(f"n_bins must be a positive integer, got {n_bins!r}")
    if strategy == "uniform":
        edges = np.linspace(0.0, 1.0, n_bins + 1)
    elif strategy == "quantile":
        edges = np.percentile(p, np.linspace(0.0, 1.0, n_bins + 1) * 100)
    else:
        raise StatsError(f"strategy must be 'uniform' or 'quantile', got {strategy!r}")
    ids = np.searchsorted(edges[1:-1], p)
    count = np.bincount(ids, minlength=n_bins).astype(np.float64)
    conf = np.bincount(ids, weights=p, minlength=n_bins)
    true = np.bincount(ids, weights=t, minlength=n_bins)
    keep = count > 0
    return ReliabilityBins(count[keep], conf[keep] / count[keep], true[keep] / count[keep])


def expected_calibration_error(y_true: Any, y_prob: Any, n_bins: int = 10, strategy: str = "uniform") -> float:
    """ECE: ``sum_b (n_b / N) * |frequency_b - mean_confidence_b|`` over the bins of :func:`reliability_bins`."""
    bins = reliability_bins(y_true, y_prob, n_bins, strategy)
    weights = bins.count / bins.count.sum()
    return float(np.sum(weights * np.abs(bins.frequency - bins.mean_confidence)))


def brier_score(y_true: Any, y_prob: Any) -> float:
    """Mean squared gap between probability and outcome (``sklearn.metrics.brier_score_loss``, binary)."""
    t = binary(y_true, "y_true")
    p = probabilities(y_prob, "y_prob")
    same_length(("y_true", t), ("y_prob", p))
    return float(np.mean((p - t) ** 2))
