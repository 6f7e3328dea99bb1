"""Label-based quality and calibration agree with scikit-learn, on random data and on the edge cases."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from sklearn import metrics
from sklearn.calibration import calibration_curve

from aivitals import stats
from aivitals.stats import StatsError

SEEDS = [0, 1, 2, 3]
SIZES = [2, 17, 500]


def _binary(seed: int, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    y[:2] = [0, 1]  # both classes present
    score = np.clip(y * 0.3 + rng.random(n) * 0.7, 0, 1).round(2)  # rounding makes ties
    return y, (score > 0.5).astype(int), score


@pytest.fixture(autouse=True)
def _quiet_sklearn() -> object:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn warns where it returns 0 for 0/0; we return the same 0
        yield


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n", SIZES)
def test_binary_scores_match_sklearn(seed: int, n: int) -> None:
    y, pred, score = _binary(seed, n)
    assert stats.accuracy(y, pred) == pytest.approx(metrics.accuracy_score(y, pred), rel=1e-15)
    assert stats.precision(y, pred) == pytest.approx(metrics.precision_score(y, pred), rel=1e-15)
    assert stats.recall(y, pred) == pytest.approx(metrics.recall_score(y, pred), rel=1e-15)
    assert stats.f1(y, pred) == pytest.approx(metrics.f1_score(y, pred), rel=1e-15)
    assert stats.roc_auc(y, score) == pytest.approx(metrics.roc_auc_score(y, score), rel=1e-12)
    assert stats.average_precision(y, score) == pytest.approx(metrics.average_precision_score(y, score), rel=1e-12)
    assert stats.log_loss(y, score) == pytest.approx(metrics.log_loss(y, score, labels=[0, 1]), rel=1e-12)
    assert stats.brier_score(y, score) == pytest.approx(metrics.brier_score_loss(y, score), rel=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("average", ["macro", "micro"])
def test_multiclass_averages_match_sklearn(seed: int, average: str) -> None:
    rng = np.random.default_rng(seed)
    y = rng.choice(["cat", "dog", "eel"], 300)
    pred = np.where(rng.random(300) < 0.6, y, rng.choice(["cat", "dog", "eel", "fox"], 300))  # fox: never true
    for ours, theirs in ((stats.precision, metrics.precision_score), (stats.recall, metrics.recall_score),
                         (stats.f1, metrics.f1_score)):
        assert ours(y, pred, average=average) == pytest.approx(theirs(y, pred, average=average), rel=1e-12)


def test_binary_scores_with_no_predicted_or_actual_positive_are_zero_like_sklearn() -> None:
    y, pred = [0, 0, 1, 1], [0, 0, 0, 0]
    assert stats.precision(y, pred) == metrics.precision_score(y, pred) == 0.0
    assert stats.f1(y, pred) == metrics.f1_score(y, pred) == 0.0
    assert stats.recall([0, 0], [1, 0]) == metrics.recall_score([0, 0], [1, 0]) == 0.0


def test_roc_auc_counts_tied_scores_as_half() -> None:
    assert stats.roc_auc([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5]) == 0.5
    assert stats.roc_auc([0, 1, 1], [0.2, 0.2, 0.9]) == pytest.approx(metrics.roc_auc_score([0, 1, 1],
                                                                                            [0.2, 0.2, 0.9]))


def test_log_loss_clips_certain_wrong_answers_like_sklearn() -> None:
    y, p = [1, 0, 1], [0.0, 1.0, 1.0]
    assert stats.log_loss(y, p) == pytest.approx(metrics.log_loss(y, p, labels=[0, 1]), rel=1e-12)
    assert stats.log_loss(y, p) == pytest.approx(-2 * math.log(stats.LOG_LOSS_EPS) / 3, rel=1e-9)
    assert stats.log_loss([1, 1], [0.9, 0.8]) == pytest.approx(metrics.log_loss([1, 1], [0.9, 0.8], labels=[0, 1]))


@pytest.mark.parametrize(
    ("call", "match"),
    [(lambda: stats.roc_auc([1, 1, 1], [0.1, 0.2, 0.3]), "only one class"),
     (lambda: stats.roc_auc([0, 0], [0.1, 0.2]), "only one class"),
     (lambda: stats.average_precision([0, 0], [0.1, 0.2]), "without a positive"),
     (lambda: stats.roc_auc([0, 2], [0.1, 0.2]), "only 0 and 1"),
     (lambda: stats.roc_auc([0, 1], [0.1, math.nan]), "NaN"),
     (lambda: stats.log_loss([0, 1], [0.1, 1.2]), r"\[0, 1\]"),
     (lambda: stats.f1([0, 1, 2], [0, 1, 2]), "binary"),
     (lambda: stats.f1([0, 2], [0, 2]), "pos_label"),
     (lambda: stats.f1([0, 1], [0, 1], average="weighted"), "average"),
     (lambda: stats.accuracy([0, 1], [0]), "y_pred"),
     (lambda: stats.accuracy([], []), "non-empty"),
     (lambda: stats.mse([1.0], [math.inf]), "NaN or infinite")],
)
def test_undefined_scores_raise_a_clear_error(call: object, match: str) -> None:
    with pytest.raises(StatsError, match=match):
        call()  # type: ignore[operator]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
@pytest.mark.parametrize("n_bins", [1, 5, 10])
def test_reliability_bins_match_sklearn_calibration_curve(seed: int, strategy: str, n_bins: int) -> None:
    y, _, score = _binary(seed, 400)
    bins = stats.reliability_bins(y, score, n_bins, strategy)
    prob_true, prob_pred = calibration_curve(y, score, n_bins=n_bins, strategy=strategy)
    np.testing.assert_allclose(bins.frequency, prob_true, rtol=1e-12)
    np.testing.assert_allclose(bins.mean_confidence, prob_pred, rtol=1e-12)
    assert bins.count.sum() == 400


def _ece_by_hand(y: np.ndarray, p: np.ndarray, n_bins: int) -> float:
    total = 0.0
    for b in range(n_bins):
        lo, hi = b / n_bins, (b + 1) / n_bins
        mask = (p > lo) & (p <= hi) if b else (p >= 0) & (p <= hi)
        if mask.any():
            total += mask.sum() / p.size * abs(y[mask].mean() - p[mask].mean())
    return total


@pytest.mark.parametrize("seed", SEEDS)
def test_ece_with_equal_width_bins_matches_the_definition(seed: int) -> None:
    y, _, score = _binary(seed, 1000)
    assert stats.expected_calibration_error(y, score, 10) == pytest.approx(_ece_by_hand(y, score, 10), rel=1e-12)


def test_ece_of_a_perfectly_calibrated_model_is_zero_and_an_overconfident_one_is_not() -> None:
    y = np.array([1] * 8 + [0] * 2)
    assert stats.expected_calibration_error(y, np.full(10, 0.8)) == pytest.approx(0.0, abs=1e-15)
    assert stats.expected_calibration_error(y, np.full(10, 0.99)) == pytest.approx(0.19)
    assert stats.expected_calibration_error(y, np.full(10, 0.99), strategy="quantile") == pytest.approx(0.19)


@pytest.mark.parametrize("seed", SEEDS)
def test_regression_errors_match_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    t, p = rng.normal(size=50), rng.normal(size=50)
    assert stats.mse(t, p) == pytest.approx(metrics.mean_squared_error(t, p), rel=1e-12)
    assert stats.mae(t, p) == pytest.approx(metrics.mean_absolute_error(t, p), rel=1e-12)


def test_fairness_gap_is_max_minus_min_group_accuracy() -> None:
    y = [1, 1, 0, 0, 1, 1, 0, 0]
    pred = [1, 1, 0, 1, 0, 1, 1, 1]
    groups = ["a", "a", "a", "a", "b", "b", "b", "b"]
    result = stats.fairness_gap(y, pred, groups)
    assert result.accuracy_by_group == {"a": 0.75, "b": 0.25}
    assert result.gap == 0.5
    with pytest.raises(StatsError, match="two groups"):
        stats.fairness_gap([1], [1], ["a"])


def test_all_equal_scores_match_sklearn() -> None:
    y, score = [0, 1, 1, 0, 1], [0.4] * 5
    assert stats.roc_auc(y, score) == metrics.roc_auc_score(y, score) == 0.5
    assert stats.average_precision(y, score) == pytest.approx(metrics.average_precision_score(y, score))
    assert stats.average_precision(y, score) == pytest.approx(0.6)
    assert stats.expected_calibration_error(y, score) == pytest.approx(0.2)
