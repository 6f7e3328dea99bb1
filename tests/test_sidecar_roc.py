"""The sidecar's ROC-AUC and log loss (aivitals.stats over a window) agree with scikit-learn, ties and edge cases."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import log_loss as sk_log_loss
from sklearn.metrics import roc_auc_score

from aivitals.sidecar.apply import calibration_bin, nps_category
from aivitals.sidecar.derived import window_auc as roc_auc
from aivitals.sidecar.derived import window_log_loss as log_loss


@pytest.mark.parametrize("seed", range(20))
def test_roc_auc_matches_sklearn_on_random_scores_with_ties(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 400))
    labels = rng.random(n) < rng.uniform(0.05, 0.95)
    labels[0], labels[1] = True, False
    # coarse scores force many ties; half the seeds use continuous scores
    scores = np.round(rng.random(n), 1) if seed % 2 else rng.random(n)
    assert roc_auc(scores, labels) == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)


@pytest.mark.parametrize(("scores", "labels", "expected"), [
    ([0.1, 0.9], [False, True], 1.0),
    ([0.9, 0.1], [False, True], 0.0),
    ([0.5, 0.5, 0.5, 0.5], [True, False, True, False], 0.5),
    ([0.2, 0.2, 0.8], [False, True, True], 0.75),
])
def test_roc_auc_edge_cases(scores: list[float], labels: list[bool], expected: float) -> None:
    assert roc_auc(scores, labels) == pytest.approx(expected)
    assert roc_auc_score(labels, scores) == pytest.approx(expected)


def test_roc_auc_is_undefined_with_one_class() -> None:
    assert roc_auc([0.1, 0.7], [True, True]) is None
    assert roc_auc([0.1, 0.7], [False, False]) is None
    assert roc_auc([], []) is None


@pytest.mark.parametrize("seed", range(10))
def test_log_loss_matches_sklearn(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    n = int(rng.integers(1, 300))
    labels = rng.random(n) < 0.5
    scores = rng.random(n)
    scores[: n // 10] = np.round(scores[: n // 10])  # exact 0 and 1 are clipped like sklearn clips them
    expected = sk_log_loss(labels, scores, labels=[False, True])
    assert log_loss(scores, labels) == pytest.approx(expected, rel=1e-12)


def test_log_loss_of_nothing_is_undefined() -> None:
    assert log_loss([], []) is None


@pytest.mark.parametrize(("confidence", "edge"), [
    (0.0, "0.1"), (0.05, "0.1"), (0.1, "0.1"), (0.1000001, "0.2"), (0.3, "0.3"), (0.7, "0.7"), (0.95, "1.0"),
    (1.0, "1.0"),
])
def test_calibration_bins_are_labelled_by_their_upper_edge(confidence: float, edge: str) -> None:
    assert calibration_bin(confidence) == edge


@pytest.mark.parametrize(("score", "category"), [(0, "detractor"), (6, "detractor"), (7, "passive"),
                                                 (8, "passive"), (9, "promoter"), (10, "promoter")])
def test_survey_scores_fall_into_nps_categories(score: int, category: str) -> None:
    assert nps_category(score) == category
