"""Exact ROC-AUC (ties counted half) and log loss over stored scores.

Kept private and small on purpose: the sidecar needs two numbers over a window,
not a statistics library. Both are checked against scikit-learn in the tests.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

_EPS = float(np.finfo(np.float64).eps)


def _average_ranks(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """1-based ranks, tied values sharing the mean of their ranks."""
    order = np.argsort(values, kind="mergesort")
    ordered = values[order]
    n = len(values)
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    ends = np.concatenate((starts[1:], [n]))
    ranks = np.empty(n, dtype=np.float64)
    ranks[order] = np.repeat((starts + ends + 1) / 2.0, ends - starts)
    return ranks


def roc_auc(scores: npt.ArrayLike, positives: npt.ArrayLike) -> float | None:
    """Probability that a random positive scores above a random negative; None without both classes.

    Mann-Whitney U over average ranks, which is exactly the area under the
    step ROC curve with ties counted half.
    """
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(positives, dtype=bool)
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        return None
    rank_sum = float(_average_ranks(s)[y].sum())
    return (rank_sum - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg)


def log_loss(scores: npt.ArrayLike, positives: npt.ArrayLike) -> float | None:
    """Mean negative log-likelihood of the labels, scores clipped to [eps, 1 - eps]; None when empty."""
    p = np.clip(np.asarray(scores, dtype=np.float64), _EPS, 1.0 - _EPS)
    y = np.asarray(positives, dtype=bool)
    if len(p) == 0:
        return None
    return float(-np.mean(np.where(y, np.log(p), np.log1p(-p))))
