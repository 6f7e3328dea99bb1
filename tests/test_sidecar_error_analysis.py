"""Error analysis at the label join: the confusion matrix over a model's declared classes, FP and FN by group.

Checked against scikit-learn's ``confusion_matrix`` on the same labelled predictions.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sklearn.metrics import confusion_matrix

from _sidecar import Clock, metrics, post, sample, samples, settings
from aivitals.sidecar import create_app
from aivitals.sidecar.server import main
from aivitals.sidecar.settings import SettingsError, load_settings

CLASSES = ("billing", "tech", "sales")
MATRIX = "aivitals_class_predictions_total"
GROUP_CONFUSION = "aivitals_group_confusion_total"


@pytest.fixture
def classy(tmp_path: Path) -> Iterator[TestClient]:
    conf = settings(tmp_path, classes={"triage": CLASSES, "router": ("0", "1", "2")})
    with TestClient(create_app(conf, clock=Clock())) as c:
        yield c


def _matrix(text: str, model: str, classes: list[str]) -> np.ndarray:
    got = np.zeros((len(classes), len(classes)), dtype=int)
    for key, value in samples(text, MATRIX).items():
        labels = dict(key)
        if labels["model"] == model:
            got[classes.index(labels["actual_class"]), classes.index(labels["predicted_class"])] += int(value)
    return got


def test_multiclass_labels_give_scikit_learns_confusion_matrix_with_undeclared_classes_as_other(
        classy: TestClient) -> None:
    rng = np.random.default_rng(15)
    pool = [*CLASSES, "refund"]  # refund is not declared: it folds into other, as predicted and as actual
    truth = [pool[i] for i in rng.integers(0, 4, 300)]
    guess = [t if rng.random() < 0.6 else pool[int(rng.integers(0, 4))] for t in truth]
    post(classy, "/v1/predictions", [{"id": str(i), "model": "triage", "predicted": g} for i, g in enumerate(guess)])
    post(classy, "/v1/labels", [{"prediction_id": str(i), "actual": t} for i, t in enumerate(truth)])
    labels = [*CLASSES, "other"]
    fold = [c if c in CLASSES else "other" for c in truth], [c if c in CLASSES else "other" for c in guess]
    want = confusion_matrix(fold[0], fold[1], labels=labels)
    text = metrics(classy)
    assert (_matrix(text, "triage", labels) == want).all()
    assert want[3].sum() > 0 and want[:, 3].sum() > 0  # the data does exercise other, both ways
    values = {dict(k)[axis] for k in samples(text, MATRIX) for axis in ("predicted_class", "actual_class")}
    assert values <= set(labels)  # bounded: the declared classes plus other, never "refund"


def test_an_undeclared_class_folds_into_other_and_a_model_without_classes_records_no_matrix(
        classy: TestClient) -> None:
    post(classy, "/v1/predictions", [
        {"id": "a", "model": "triage", "predicted": "refund"},
        {"id": "b", "model": "triage", "predicted": "tech"},
        {"id": "c", "model": "router", "predicted": 2},
        {"id": "d", "model": "churn", "predicted": "x"},
    ])
    post(classy, "/v1/labels", [
        {"prediction_id": "a", "actual": "billing"},
        {"prediction_id": "b", "actual": "complaint about a refund 7f3e"},
        {"prediction_id": "c", "actual": 2},  # an int class matches the declared "2"
        {"prediction_id": "d", "actual": "x"},
    ])
    text = metrics(classy)
    assert sample(text, MATRIX, {"model": "triage", "predicted_class": "other", "actual_class": "billing"}) == 1
    assert sample(text, MATRIX, {"model": "triage", "predicted_class": "tech", "actual_class": "other"}) == 1
    assert sample(text, MATRIX, {"model": "router", "predicted_class": "2", "actual_class": "2"}) == 1
    assert not [k for k in samples(text, MATRIX) if ("model", "churn") in k]
    series = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    assert "7f3e" not in series and "refund" not in series  # no free text in a label value


def test_false_positives_and_negatives_by_declared_group_match_scikit_learn(classy: TestClient) -> None:
    rng = np.random.default_rng(7)
    n = 200
    region = [("eu", "us")[i] for i in rng.integers(0, 2, n)]
    truth = rng.random(n) < 0.4
    guess = np.where(rng.random(n) < 0.7, truth, ~truth)
    post(classy, "/v1/predictions", [{"id": f"p{i}", "model": "churn", "predicted": bool(guess[i]),
                                      "groups": {"region": region[i]}} for i in range(n)])
    post(classy, "/v1/labels", [{"prediction_id": f"p{i}", "actual": bool(truth[i])} for i in range(n)])
    text = metrics(classy)
    for group in ("eu", "us"):
        rows = [i for i in range(n) if region[i] == group]
        tn, fp, fn, tp = confusion_matrix(truth[rows], guess[rows], labels=[False, True]).ravel()
        for cell, want in (("tp", tp), ("fp", fp), ("tn", tn), ("fn", fn)):
            labels = {"model": "churn", "attribute": "region", "group": group, "class_outcome": cell}
            assert (sample(text, GROUP_CONFUSION, labels) or 0) == want, (group, cell)


def test_a_multiclass_prediction_without_a_positive_class_has_no_group_confusion(classy: TestClient) -> None:
    post(classy, "/v1/predictions", {"id": "a", "model": "triage", "predicted": "tech", "groups": {"region": "eu"}})
    post(classy, "/v1/labels", {"prediction_id": "a", "actual": "tech"})
    text = metrics(classy)
    assert not samples(text, GROUP_CONFUSION)
    assert sample(text, MATRIX, {"model": "triage", "predicted_class": "tech", "actual_class": "tech"}) == 1


@pytest.mark.parametrize(("text", "message"), [
    ('{"classes": {"triage": ["a", "b", "a"]}}', "classes.triage: a value appears twice"),
    ('{"classes": {"triage": ["other", "b"]}}', "classes.triage: 'other' is reserved"),
    ('{"classes": {"triage": []}}', "classes.triage: declare at least one"),
    ('{"classes": {"triage": ["has space"]}}', "classes.triage"),
    ('{"classes": ["triage"]}', "classes: a mapping"),
    ('{"classes": {"triage": "billing"}}', "classes: a mapping"),
    (json.dumps({"classes": {"triage": [f"c{i}" for i in range(21)]}}), "at most 20 values"),
])
def test_a_bad_classes_setting_names_it(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "sidecar.json"
    path.write_text(text)
    with pytest.raises(SettingsError, match=message):
        load_settings(path)


def test_a_bad_classes_setting_is_one_line_on_stderr_and_exit_2(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "sidecar.yaml"
    path.write_text("classes:\n  triage: [billing, other]\n")
    assert main(["--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "classes.triage" in err and "Traceback" not in err


def test_twenty_declared_classes_and_integer_classes_load(tmp_path: Path) -> None:
    path = tmp_path / "sidecar.yaml"
    names = ", ".join(f"c{i}" for i in range(20))
    path.write_text(f"classes:\n  triage: [{names}]\n  router: [0, 1, 2]\n")
    loaded = load_settings(path)
    assert len(loaded.classes["triage"]) == 20 and loaded.classes["router"] == ("0", "1", "2")
