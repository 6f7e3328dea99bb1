"""The values the recording-rule tests expect are right: checked against scikit-learn, scipy and numpy."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import chi2_contingency
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score

from aivitals.codegen.rules import scenario
from aivitals.codegen.rules.arithmetic import bucket_quantile, quantile_over_time
from aivitals.codegen.rules.scenario import CONFUSION, KPI, expected


def _value(record: str, window: str | None = "1h") -> float:
    (value,) = expected(record, window, 0.0).values()
    return value


def _labels() -> tuple[np.ndarray, np.ndarray]:
    c = CONFUSION
    truth = [1] * c["tp"] + [0] * c["fp"] + [0] * c["tn"] + [1] * c["fn"]
    pred = [1] * c["tp"] + [1] * c["fp"] + [0] * c["tn"] + [0] * c["fn"]
    return np.array(truth), np.array(pred)


def test_accuracy_precision_recall_f1_match_scikit_learn() -> None:
    truth, pred = _labels()
    assert _value("model:aivitals_accuracy:ratio_rate") == pytest.approx(accuracy_score(truth, pred), abs=1e-12)
    assert _value("model:aivitals_precision:ratio_rate") == pytest.approx(precision_score(truth, pred), abs=1e-12)
    assert _value("model:aivitals_recall:ratio_rate") == pytest.approx(recall_score(truth, pred), abs=1e-12)
    assert _value("model:aivitals_f1:ratio_rate") == pytest.approx(f1_score(truth, pred), abs=1e-12)


def test_the_kpi_z_score_squared_is_the_chi_square_of_the_two_by_two_table() -> None:
    (nt, ct), (nc, cc) = KPI["treatment"], KPI["control"]
    w = 7 * 86400.0
    table = np.array([[ct * w, (nt - ct) * w], [cc * w, (nc - cc) * w]])
    chi2 = chi2_contingency(table, correction=False)[0]
    z = _value("kpi:aivitals_kpi_delta:zscore_increase", "7d")
    assert z > 0 and z**2 == pytest.approx(chi2, rel=1e-9)
    assert _value("kpi:aivitals_kpi_delta:ratio_increase", "7d") == pytest.approx(ct / nt - cc / nc)


def test_expected_calibration_error_matches_its_definition() -> None:
    bins = scenario.CALIBRATION.values()
    n = sum(b[0] for b in bins)
    ece = sum(abs(conf / count - correct / count) * count / n for count, correct, conf in bins)
    assert _value("model:aivitals_calibration_error:ece_increase", "1d") == pytest.approx(ece)


@pytest.mark.parametrize("seed", range(5))
def test_histogram_quantile_interpolates_the_bucket_cdf_like_numpy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    edges = np.cumsum(rng.uniform(0.1, 2.0, 8))
    counts = np.cumsum(rng.integers(1, 50, 8)).astype(float)
    buckets = {f"{e:.6f}": c for e, c in zip(edges, counts, strict=True)} | {"+Inf": counts[-1]}
    edges = np.array([float(f"{e:.6f}") for e in edges])
    for q in rng.uniform(0.01, 0.99, 20):
        want = np.interp(q * counts[-1], np.concatenate([[0.0], counts]), np.concatenate([[0.0], edges]))
        assert bucket_quantile(q, buckets) == pytest.approx(want, rel=1e-12)


def test_histogram_quantile_in_the_inf_bucket_is_the_highest_finite_edge() -> None:
    assert bucket_quantile(0.99, {"1": 10.0, "2": 50.0, "+Inf": 100.0}) == 2.0


def test_quantile_over_time_matches_numpy_linear_quantile() -> None:
    values = list(np.random.default_rng(1).uniform(0, 100, 57))
    assert quantile_over_time(0.99, values) == pytest.approx(np.quantile(values, 0.99), rel=1e-12)


def test_fairness_gap_nps_and_the_slo_ratio_by_hand() -> None:
    assert _value("model_attribute:aivitals_fairness_gap:ratio", None) == pytest.approx(0.8 - 0.6)
    assert _value("namespace:aivitals_nps:ratio_increase", "7d") == pytest.approx((5 - 2) / 10)
    assert _value("service_model:aivitals_slo_latency_errors:ratio_rate") == pytest.approx(1 - 36 / 40)
    assert math.isclose(_value("service_model:aivitals_request_errors:ratio_rate"), 2 / 40, rel_tol=1e-12)
