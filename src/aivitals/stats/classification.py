"""Label-based quality of a classifier, each as scikit-learn computes it.

Binary scores take labels 0/1 (or bools). Where scikit-learn warns and
returns 0 for a zero denominator (precision with no predicted positives,
recall with no actual ones), these return 0.0 too; where a number would be
meaningless (AUC with one class), they raise :class:`StatsError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._checks import FloatArray, StatsError, binary, labels, probabilities, same_length, vector


def _pair(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    t = labels(y_true, "y_true")
    p = labels(y_pred, "y_pred")
    if t.size != p.size:
        raise StatsError(f"y_true has {t.size} labels, y_pred {p.size}")
    return t, p


def accuracy(y_true: Any, y_pred: Any) -> float:
    """Share of predictions equal to the label (``sklearn.metrics.accuracy_score``)."""
    t, p = _pair(y_true, y_pred)
    return float(np.mean(t == p))


def _ratio(num: float, den: float) -> float:
    return num / den if den > 0 else 0.0


def _scores(y_true: Any, y_pred: Any, average: str, pos_label: Any) -> tuple[float, float, float]:
    t, p = _pair(y_true, y_pred)
    classes = np.unique(np.concatenate([t, p]))
    if average == "binary":
        if classes.size > 2:
            raise StatsError(f"average='binary' needs at most two classes, got {classes.size}; use macro or micro")
        if classes.size == 2 and pos_label not in classes.tolist():
            raise StatsError(f"pos_label={pos_label!r} is not one of the labels {classes.tolist()}")
        classes = np.asarray([pos_label])
    elif average not in ("macro", "micro"):
        raise StatsError(f"average must be 'binary', 'macro' or 'micro', got {average!r}")
    tp = np.array([np.sum((t == c) & (p == c)) for c in classes], dtype=np.float64)
    fp = np.array([np.sum((t != c) & (p == c)) for c in classes], dtype=np.float64)
    fn = np.array([np.sum((t == c) & (p != c)) for c in classes], dtype=np.float64)
    if average == "micro":
        tp, fp, fn = tp.sum(keepdims=True), fp.sum(keepdims=True), fn.sum(keepdims=True)
    precision = [_ratio(a, a + b) for a, b in zip(tp, fp, strict=True)]
    recall = [_ratio(a, a + b) for a, b in zip(tp, fn, strict=True)]
    f1 = [_ratio(2 * a, 2 * a + b + c) for a, b, c in zip(tp, fp, fn, strict=True)]
    return float(np.mean(precision)), float(np.mean(recall)), float(np.mean(f1))


def precision(y_true: Any, y_pred: Any, average: str = "binary", pos_label: Any = 1) -> float:
    """Precision (``sklearn.metrics.precision_score``); 0.0 when nothing was predicted positive."""
    return _scores(y_true, y_pred, average, pos_label)[0]


def recall(y_true: Any, y_pred: Any, average: str = "binary", pos_label: Any = 1) -> float:
    """Recall (``sklearn.metrics.recall_score``); 0.0 when no label is positive."""
    return _scores(y_true, y_pred, average, pos_label)[1]


def f1(y_true: Any, y_pred: Any, average: str = "binary", pos_label: Any = 1) -> float:
    """F1 (``sklearn.metrics.f1_score``): ``2tp / (2tp + fp + fn)`` per class; macro averages per-class F1."""
    return _scores(y_true, y_pred, average, pos_label)[2]


def _binary_scores(y_true: Any, y_score: Any) -> tuple[FloatArray, FloatArray]:
    t = binary(y_true, "y_true")
    s = vector(y_score, "y_score")
    same_length(("y_true", t), ("y_score", s))
    return t, s


def _midranks(values: FloatArray) -> FloatArray:
    """1-based ranks, tied values sharing the mean of their ranks."""
    order = np.argsort(values, kind="mergesort")
    ordered = values[order]
    starts = np.r_[0, np.flatnonzero(np.diff(ordered)) + 1]
    ends = np.r_[starts[1:], ordered.size]
    mean_rank = (starts + ends + 1) / 2.0
    ranks = np.empty(values.size)
    ranks[order] = np.repeat(mean_rank, ends - starts)
    return ranks


def roc_auc(y_true: Any, y_score: Any) -> float:
    """Exact ROC-AUC (``sklearn.metrics.roc_auc_score``, binary): the Mann-Whitney U with tied scores counted half.

    Raises :class:`StatsError` when only one class is present: AUC is undefined then.
    """
    t, s = _binary_scores(y_true, y_score)
    n_pos = float(t.sum())
    n_neg = t.size - n_pos
    if n_pos == 0 or n_neg == 0:
        raise StatsError("ROC-AUC is undefined with only one class in y_true")
    ranks = _midranks(s)
    return float((ranks[t == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def average_precision(y_true: Any, y_score: Any) -> float:
    """PR-AUC as average precision (``sklearn.metrics.average_precision_score``).

    ``AP = sum_n (R_n - R_{n-1}) P_n`` over the distinct score thresholds
    (tied scores form one threshold). Raises when y_true has no positive.
    """
    t, s = _binary_scores(y_true, y_score)
    if t.sum() == 0:
        raise StatsError("average precision is undefined without a positive label")
    order = np.argsort(-s, kind="mergesort")
    s, t = s[order], t[order]
    last = np.r_[np.flatnonzero(np.diff(s)), s.size - 1]
    tps = np.cumsum(t)[last]
    fps = last + 1 - tps
    prec = tps / (tps + fps)
    rec = tps / tps[-1]
    return float(np.sum(np.diff(np.r_[0.0, rec]) * prec))


#: log_loss clips probabilities to [LOG_LOSS_EPS, 1 - LOG_LOSS_EPS], as scikit-learn does
#: (the float64 machine epsilon), so a confident wrong answer costs about 36, not infinity.
LOG_LOSS_EPS = float(np.finfo(np.float64).eps)


def log_loss(y_true: Any, y_prob: Any) -> float:
    """Binary cross-entropy in nats (``sklearn.metrics.log_loss`` with labels 0/1).

    ``y_prob`` is the probability of class 1, in [0, 1]. Like scikit-learn,
    ``p`` and ``1 - p`` are each clipped to ``[eps, 1 - eps]``, eps the float64
    machine epsilon. A single class in ``y_true`` is fine here (the labels are 0/1).
    """
    t = binary(y_true, "y_true")
    p = probabilities(y_prob, "y_prob")
    same_length(("y_true", t), ("y_prob", p))
    pos = np.clip(p, LOG_LOSS_EPS, 1 - LOG_LOSS_EPS)
    neg = np.clip(1 - p, LOG_LOSS_EPS, 1 - LOG_LOSS_EPS)
    return float(np.mean(-np.where(t == 1, np.log(pos), np.log(neg))))


@dataclass(frozen=True)
class FairnessGap:
    """Largest minus smallest accuracy across groups, with each group's accuracy."""

    gap: float
    accuracy_by_group: dict[Any, float]


def fairness_gap(y_true: Any, y_pred: Any, groups: Any) -> FairnessGap:
    """Accuracy per group and the gap ``max - min``; needs at least two groups."""
    t, p = _pair(y_true, y_pred)
    g = labels(groups, "groups")
    if g.size != t.size:
        raise StatsError(f"groups has {g.size} entries, y_true {t.size}")
    names = np.unique(g)
    if names.size < 2:
        raise StatsError("a fairness gap needs at least two groups")
    by_group = {name: float(np.mean(t[g == name] == p[g == name])) for name in names.tolist()}
    return FairnessGap(max(by_group.values()) - min(by_group.values()), by_group)
