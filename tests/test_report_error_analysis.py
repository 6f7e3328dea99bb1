"""The review's error analysis: matrices from the store's cells equal scikit-learn's, absent without series."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
from sklearn.metrics import confusion_matrix

from aivitals.report.error_analysis import group_errors, matrices
from aivitals.report.render_html import render
from test_report_page import review


def _cells(model: str, truth: list[str], guess: list[str]) -> list[tuple[dict[str, str], float]]:
    """What the month's query answers: one series per (predicted, actual) seen, its count."""
    counts: dict[tuple[str, str], int] = {}
    for t, g in zip(truth, guess, strict=True):
        counts[(g, t)] = counts.get((g, t), 0) + 1
    return [({"model": model, "predicted_class": p, "actual_class": a}, float(n)) for (p, a), n in counts.items()]


def test_the_matrix_and_per_class_errors_equal_scikit_learns() -> None:
    rng = np.random.default_rng(3)
    classes = ["sales", "billing", "other", "tech"]
    truth = [classes[i] for i in rng.integers(0, 4, 500)]
    guess = [t if rng.random() < 0.55 else classes[int(rng.integers(0, 4))] for t in truth]
    m = matrices(_cells("triage", truth, guess) + _cells("router", ["a"], ["b"]))["triage"]
    assert m.classes == ("billing", "sales", "tech", "other")  # sorted, other last
    want = confusion_matrix(truth, guess, labels=list(m.classes))
    assert (np.array(m.counts) == want).all()
    diagonal = np.diag(want)
    assert [m.false_positives(i) for i in range(4)] == list(want.sum(axis=0) - diagonal)
    assert [m.false_negatives(i) for i in range(4)] == list(want.sum(axis=1) - diagonal)


def test_a_class_seen_only_as_actual_still_gets_its_row_and_column() -> None:
    m = matrices(_cells("triage", ["billing", "refund"], ["billing", "billing"]))["triage"]
    assert m.classes == ("billing", "refund") and m.counts == ((1.0, 0.0), (1.0, 0.0))
    assert m.false_positives(0) == 1.0 and m.false_negatives(1) == 1.0


def test_group_errors_read_a_missing_cell_of_a_present_group_as_zero() -> None:
    cells = [({"model": "churn", "attribute": "region", "group": "eu", "class_outcome": "fp"}, 4.0),
             ({"model": "churn", "attribute": "region", "group": "us", "class_outcome": "fn"}, 2.0),
             ({"model": "churn", "attribute": "region", "group": "us", "class_outcome": "fp"}, 1.0)]
    assert group_errors(cells) == {("churn", "region", "eu"): (4.0, 0.0), ("churn", "region", "us"): (1.0, 2.0)}


def test_without_error_analysis_series_the_json_and_page_leave_it_out() -> None:
    bare = review().__class__(**{**review().__dict__, "errors": None})
    assert "error_analysis" not in json.loads(json.dumps(bare.as_json()))
    assert "Error analysis" not in render(bare)
    assert "error_analysis" in review().as_json() and "Error analysis" in render(review())


def test_error_analysis_read_over_all_services_says_so_in_the_json_and_under_the_section() -> None:
    base = review()
    assert base.errors is not None
    mixed = base.__class__(**{**base.__dict__, "errors": replace(base.errors, all_services=True)})
    assert mixed.as_json()["error_analysis"]["all_services"] is True
    assert "all_services" not in base.as_json()["error_analysis"]
    html = render(mixed)
    performance = html[html.index('id="performance"'):html.index('id="operational"')]
    assert "<h3>Error analysis<sup" in performance and "not support-assistant's alone: " in performance
    assert "Error analysis.</p></section>" in performance  # the section's footnote, last
    assert "<h3>Error analysis</h3>" in render(base)
