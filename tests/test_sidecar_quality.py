"""Predictions and delayed labels, through the HTTP API: confusion, calibration, fairness, AUC, retention."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sklearn.metrics import log_loss, roc_auc_score

from _sidecar import NOW, Clock, metrics, post, sample, samples, settings
from aivitals.sidecar import create_app

DAY = 86400.0


def test_labels_join_predictions_into_confusion_calibration_groups_and_delay(client: TestClient) -> None:
    post(client, "/v1/predictions", [
        {"id": "a", "model": "churn", "score": 0.9, "groups": {"region": "eu"}, "time": NOW - 3600},
        {"id": "b", "model": "churn", "score": 0.2, "groups": {"region": "us"}, "time": NOW - 3600},
        {"id": "c", "model": "churn", "predicted": True, "confidence": 0.55, "time": NOW - 3600},
        {"id": "d", "model": "churn", "predicted": False, "time": NOW - 3600},
    ])
    ack = post(client, "/v1/labels", [
        {"prediction_id": "a", "actual": True},
        {"prediction_id": "b", "actual": True},
        {"prediction_id": "c", "actual": False},
        {"prediction_id": "d", "actual": 0},
    ])
    assert ack == {"accepted": 4, "duplicate": 0}
    text = metrics(client)
    for cell in ("tp", "fn", "fp", "tn"):
        assert sample(text, "aivitals_confusion_total", {"model": "churn", "class_outcome": cell}) == 1
    assert sample(text, "aivitals_labels_total", {"model": "churn", "result": "joined"}) == 4
    # a: confidence 0.9, right; b: score 0.2 -> predicted negative with confidence 0.8, wrong; c: 0.55, wrong
    for edge, count, correct, total in (("0.9", 1, 1, 0.9), ("0.8", 1, 0, 0.8), ("0.6", 1, 0, 0.55)):
        labels = {"model": "churn", "bin": edge}
        assert sample(text, "aivitals_calibration_predictions_total", labels) == count
        assert sample(text, "aivitals_calibration_correct_total", labels) == correct
        assert sample(text, "aivitals_calibration_confidence_sum_total", labels) == pytest.approx(total)
    assert sum(samples(text, "aivitals_calibration_predictions_total").values()) == 3  # d has no confidence
    group = "aivitals_group_predictions_total"
    assert sample(text, group, {"model": "churn", "attribute": "region", "group": "eu", "correct": "true"}) == 1
    assert sample(text, group, {"model": "churn", "attribute": "region", "group": "us", "correct": "false"}) == 1
    assert sample(text, "aivitals_label_delay_seconds_count", {"model": "churn"}) == 4
    assert sample(text, "aivitals_label_delay_seconds_sum", {"model": "churn"}) == 4 * 3600
    assert sample(text, "aivitals_label_delay_seconds_bucket", {"model": "churn", "le": "1800.0"}) == 0
    assert sample(text, "aivitals_label_delay_seconds_bucket", {"model": "churn", "le": "3600.0"}) == 4
    assert sample(text, "aivitals_ground_truth_last_timestamp_seconds", {"model": "churn"}) == NOW


def test_multiclass_predictions_use_the_declared_positive_class(client: TestClient) -> None:
    post(client, "/v1/predictions", [
        {"id": "1", "model": "triage", "predicted": "billing", "positive_class": "billing", "confidence": 0.7},
        {"id": "2", "model": "triage", "predicted": "tech", "positive_class": "billing", "confidence": 0.7},
        {"id": "3", "model": "router", "predicted": 2, "confidence": 0.95},
    ])
    post(client, "/v1/labels", [
        {"prediction_id": "1", "actual": "tech"},
        {"prediction_id": "2", "actual": "billing"},
        {"prediction_id": "3", "actual": 2},
    ])
    text = metrics(client)
    assert sample(text, "aivitals_confusion_total", {"model": "triage", "class_outcome": "fp"}) == 1
    assert sample(text, "aivitals_confusion_total", {"model": "triage", "class_outcome": "fn"}) == 1
    # without a positive class there is no confusion cell, but correctness still counts
    assert not [k for k in samples(text, "aivitals_confusion_total") if ("model", "router") in k]
    assert sample(text, "aivitals_calibration_correct_total", {"model": "router", "bin": "1.0"}) == 1


def test_a_second_label_for_a_prediction_is_a_duplicate(client: TestClient) -> None:
    post(client, "/v1/predictions", {"id": "a", "model": "m", "predicted": True})
    assert post(client, "/v1/labels", {"prediction_id": "a", "actual": True}) == {"accepted": 1, "duplicate": 0}
    assert post(client, "/v1/labels", {"prediction_id": "a", "actual": False}) == {"accepted": 0, "duplicate": 1}
    text = metrics(client)
    assert sample(text, "aivitals_confusion_total", {"model": "m", "class_outcome": "tp"}) == 1
    assert sample(text, "aivitals_confusion_total", {"model": "m", "class_outcome": "fn"}) is None
    assert sample(text, "aivitals_events_total", {"event_kind": "label", "result": "duplicate"}) == 1


def test_a_repeated_prediction_id_is_a_duplicate(client: TestClient) -> None:
    assert post(client, "/v1/predictions", [{"id": "a", "model": "m", "score": 0.1},
                                            {"id": "a", "model": "m", "score": 0.9}]) == {"accepted": 1,
                                                                                          "duplicate": 1}


def test_a_label_for_an_unknown_prediction_is_counted_not_an_error(client: TestClient) -> None:
    assert post(client, "/v1/labels", [{"prediction_id": "nope", "actual": True, "model": "churn"},
                                       {"prediction_id": "nada", "actual": True}])["accepted"] == 2
    text = metrics(client)
    assert sample(text, "aivitals_labels_total", {"model": "churn", "result": "unknown"}) == 1
    assert sample(text, "aivitals_labels_total", {"model": "other", "result": "unknown"}) == 1


def test_auc_and_log_loss_over_each_window_match_sklearn(client: TestClient) -> None:
    rng = np.random.default_rng(7)
    n = 300
    scores = np.round(rng.random(n), 1)  # ties on purpose
    actual = rng.random(n) < scores
    old = np.arange(n) < n // 2  # labelled 8 days ago: inside 30d only
    post(client, "/v1/predictions", [{"id": f"p{i}", "model": "fraud", "score": float(s), "time": NOW - 10 * DAY}
                                     for i, s in enumerate(scores)])
    post(client, "/v1/labels", [{"prediction_id": f"p{i}", "actual": bool(a), "time": NOW - (8 * DAY if o else 60)}
                                for i, (a, o) in enumerate(zip(actual, old, strict=True))])
    text = metrics(client)
    for window, mask in (("30d", np.ones(n, bool)), ("7d", ~old), ("1d", ~old)):
        auc = sample(text, "aivitals_model_roc_auc_ratio", {"model": "fraud", "window": window})
        loss = sample(text, "aivitals_model_log_loss", {"model": "fraud", "window": window})
        assert auc == pytest.approx(roc_auc_score(actual[mask], scores[mask]), abs=1e-12)
        assert loss == pytest.approx(log_loss(actual[mask], scores[mask], labels=[False, True]), rel=1e-9)
    assert sample(text, "aivitals_model_roc_auc_ratio", {"model": "fraud", "window": "7d"}) != sample(
        text, "aivitals_model_roc_auc_ratio", {"model": "fraud", "window": "30d"})


def test_predictions_over_the_count_bound_are_evicted_and_late_labels_counted_expired(tmp_path: Path) -> None:
    clock = Clock()
    with TestClient(create_app(settings(tmp_path, prediction_max_count=2), clock=clock)) as client:
        post(client, "/v1/predictions", [{"id": "p1", "model": "m", "score": 0.5}])
        post(client, "/v1/predictions", [{"id": "p2", "model": "m", "score": 0.5},
                                         {"id": "p3", "model": "m", "score": 0.5}])
        post(client, "/v1/labels", [{"prediction_id": "p1", "actual": True},
                                    {"prediction_id": "p3", "actual": True}])
        text = metrics(client)
    assert sample(text, "aivitals_store_evictions_total", {"event_kind": "prediction"}) == 1
    assert sample(text, "aivitals_labels_total", {"model": "m", "result": "expired"}) == 1
    assert sample(text, "aivitals_labels_total", {"model": "m", "result": "joined"}) == 1


def test_predictions_older_than_the_age_bound_are_evicted(tmp_path: Path) -> None:
    clock = Clock()
    with TestClient(create_app(settings(tmp_path, prediction_max_age_seconds=3600), clock=clock)) as client:
        post(client, "/v1/predictions", [{"id": "old", "model": "m", "score": 0.5},
                                         {"id": "young", "model": "m", "score": 0.5, "time": NOW}])
        clock.now += 2 * 3600
        post(client, "/v1/predictions", {"id": "new", "model": "m", "score": 0.5})
        post(client, "/v1/labels", [{"prediction_id": "old", "actual": True},
                                    {"prediction_id": "new", "actual": True}])
        text = metrics(client)
    assert sample(text, "aivitals_store_evictions_total", {"event_kind": "prediction"}) == 2
    assert sample(text, "aivitals_labels_total", {"model": "m", "result": "expired"}) == 1
    assert sample(text, "aivitals_labels_total", {"model": "m", "result": "joined"}) == 1


def test_model_names_past_the_label_cap_fold_into_other(client: TestClient) -> None:
    post(client, "/v1/training-runs", [{"model": f"m{i}"} for i in range(60)])
    runs = samples(metrics(client), "aivitals_training_runs_total")
    assert len(runs) == 51  # 50 distinct models, then "other"
    assert runs[(("model", "other"),)] == 10


def test_age_eviction_drops_exactly_the_predictions_received_before_the_cutoff(tmp_path: Path) -> None:
    clock = Clock()
    conf = settings(tmp_path, prediction_max_age_seconds=100, prediction_max_count=25)
    with TestClient(create_app(conf, clock=clock)) as client:
        for step in range(10):  # 30 predictions, 20 s apart in threes; the count bound leaves gaps in the rows
            post(client, "/v1/predictions", [{"id": f"p{step}-{i}", "model": "m", "score": 0.5} for i in range(3)])
            clock.now += 20
        clock.now -= 20 - 6  # 6 s after the last batch, past the next age check; cut-off: batches before step 5
        post(client, "/v1/labels", [{"prediction_id": f"p{step}-0", "actual": True} for step in range(10)])
        text = metrics(client)
    assert sample(text, "aivitals_labels_total", {"model": "m", "result": "joined"}) == 5  # steps 5..9
    assert sample(text, "aivitals_labels_total", {"model": "m", "result": "expired"}) == 5
    assert sample(text, "aivitals_store_evictions_total", {"event_kind": "prediction"}) == 15


def test_event_ids_are_remembered_for_the_dedup_window_only(tmp_path: Path) -> None:
    clock = Clock()
    with TestClient(create_app(settings(tmp_path, dedup_max_age_seconds=60), clock=clock)) as client:
        event = {"event_id": "once", "score": 9}
        assert post(client, "/v1/surveys", event) == {"accepted": 1, "duplicate": 0}
        clock.now += 30
        assert post(client, "/v1/surveys", event) == {"accepted": 0, "duplicate": 1}
        clock.now += 60
        post(client, "/v1/surveys", {"score": 1})  # a commit after the window runs the age check
        assert post(client, "/v1/surveys", event) == {"accepted": 1, "duplicate": 0}
