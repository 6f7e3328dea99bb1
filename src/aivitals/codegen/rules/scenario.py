"""A small, fixed world of input series, and every recorded value worked out by hand from it.

Counters grow at a constant integer rate, so over any window the samples
span, ``rate`` is that integer and ``increase`` is rate x seconds, exactly;
the rest is the same arithmetic PromQL does, in the same order (floats are
compared exactly by promtool). histogram_quantile is Prometheus's
interpolation, written out below.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ...catalogue.drift import FEATURE_PSI
from ...catalogue.promql import seconds
from ...catalogue.values import CAN_REFUSE, PREDICTION
from . import error_analysis
from .arithmetic import prom_rate, quantile_of, quantile_over_time

SVC = {"service": "chat", "model": "m1"}
CALL = {**SVC, "operation": "chat", "provider": "openai"}
MODEL = {"model": "m1"}

Labels = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Series:
    name: str
    labels: dict[str, str]
    value: float
    counter: bool = True


def _hist(name: str, labels: dict[str, str], buckets: Mapping[str, float], total_sum: float) -> list[Series]:
    out = [Series(f"{name}_bucket", {**labels, "le": le}, rate) for le, rate in buckets.items()]
    out.append(Series(f"{name}_count", labels, buckets["+Inf"]))
    out.append(Series(f"{name}_sum", labels, total_sum))
    return out


LATENCY = {"0.32": 8, "0.64": 20, "1.28": 30, "2.56": 36, "5.12": 39, "+Inf": 40}
TTFT = {"0.1": 10, "0.25": 30, "0.5": 38, "1": 40, "+Inf": 40}
TOXICITY = {"0.1": 90, "0.5": 99, "1": 100, "+Inf": 100}
WORK = {
    "treatment": {"300": 1, "900": 3, "1800": 4, "+Inf": 4},
    "control": {"900": 1, "1800": 3, "3600": 4, "+Inf": 4},
}
TTV = {"3600": 1, "86400": 2, "+Inf": 2}
OUTCOMES = {"ok": 36, "refused": 2, "error": 1, "timeout": 1}
CONFUSION = {"tp": 50, "fp": 10, "tn": 30, "fn": 10}
CALIBRATION = {"0.9": (100, 80, 90), "0.5": (20, 12, 10)}  # bin: predictions, correct, confidence sum
GROUPS = {"young": (40, 10), "old": (30, 20)}  # group: correct, wrong
KPI = {"treatment": (100, 30), "control": (100, 20)}  # cohort: exposures, conversions
FIXED = {"compute": 1000.0, "storage": 500.0}
PSI = {"f1": 0.1, "f2": 0.2, PREDICTION: 0.3}
TRAINED, GROUND_TRUTH = 1000.0, 5000.0
PROBE_SUITE = {"suite": "aivitals-jailbreak", "suite_version": "1", "model": "m1"}
#: Probe category: release -> (model version, answered attempts, successful attacks).
PROBE = {
    "goal_hijacking": {"previous": ("v1", 40, 2), "current": ("v2", 40, 12)},
    "prompt_leaking": {"previous": ("v1", 40, 4), "current": ("v2", 40, 5)},
    "persona_jailbreak": {"previous": ("v1", 30, 1), "current": ("v2", 30, 1)},
    "harmful_request": {"previous": ("v1", 50, 5), "current": ("v2", 50, 3)},
}
CAPACITY = 80.0
MONTH = 2629746


def series() -> list[Series]:
    """Counters as per-second rates, gauges as values: the calls and their evaluations, then the rest."""
    s: list[Series] = [Series("aivitals_requests_total", {**CALL, "outcome": o}, r) for o, r in OUTCOMES.items()]
    s += _hist("aivitals_request_duration_seconds", CALL, LATENCY, 40)
    s += _hist("aivitals_time_to_first_chunk_seconds", CALL, TTFT, 8)
    s += [Series("aivitals_tokens_total", {**CALL, "token_type": t}, r)
          for t, r in (("input", 4000), ("output", 1000), ("cached_input", 500))]
    s += [Series("aivitals_cost_usd_total", {**SVC, "provider": "openai", "cost_kind": k}, 2)
          for k in ("input", "output")]
    s += [Series("aivitals_cache_requests_total", {**SVC, "cache": "prompt", "result": r}, v)
          for r, v in (("hit", 3), ("miss", 1))]
    for evaluator, total, count in (("groundedness", 9, 10), ("context_precision", 3, 4), ("context_recall", 1, 2)):
        labels = {**SVC, "evaluator": evaluator}
        s += [Series("aivitals_quality_score_sum", labels, total),
              Series("aivitals_quality_score_count", labels, count)]
    s += _hist("aivitals_quality_score", {**SVC, "evaluator": "toxicity"}, TOXICITY, 5)
    for evaluator, passed, failed in (("hallucination", 48, 2), ("citation", 45, 5)):
        s += [Series("aivitals_evaluations_total", {**SVC, "evaluator": evaluator, "verdict": v}, n)
              for v, n in (("pass", passed), ("fail", failed))]
    s.append(Series("aivitals_pii_detections_total", {**SVC, "pii_kind": "email"}, 1))
    s += [Series("aivitals_evaluator_responses_total", {**SVC, "evaluation_status": st}, n)
          for st, n in (("evaluated", 19), ("dropped", 1))]
    s.append(Series("aivitals_judge_calls_total", {**SVC, "judge_result": "ok"}, 3))
    for category, releases in PROBE.items():
        for release, (version, attempts, successes) in releases.items():
            labels = {**PROBE_SUITE, "model_version": version, "probe_category": category, "release": release}
            s += [Series("aivitals_probe_attempts", labels, attempts, False),
                  Series("aivitals_probe_successes", labels, successes, False)]
    s.append(Series("aivitals_sdk_errors_total", {"stage": "cost"}, 1))
    s.append(Series("aivitals_unmetered_requests_total", {**SVC, "unmetered_reason": "stream_incomplete"}, 1))
    return s + _model_series() + _world_series() + [Series(*i) for i in error_analysis.INPUTS]


def _model_series() -> list[Series]:
    """Ground truth and the business: confusion, calibration, groups, the KPI experiment, outcomes."""
    s = [Series("aivitals_confusion_total", {**MODEL, "class_outcome": c}, n) for c, n in CONFUSION.items()]
    for b, (n, correct, conf) in CALIBRATION.items():
        s += [Series("aivitals_calibration_predictions_total", {**MODEL, "bin": b}, n),
              Series("aivitals_calibration_correct_total", {**MODEL, "bin": b}, correct),
              Series("aivitals_calibration_confidence_sum_total", {**MODEL, "bin": b}, conf)]
    for group, (right, wrong) in GROUPS.items():
        s += [Series("aivitals_group_predictions_total", {**MODEL, "attribute": "age", "group": group, "correct": c}, n)
              for c, n in (("true", right), ("false", wrong))]
    for cohort, (exposed, converted) in KPI.items():
        s += [Series("aivitals_kpi_exposures_total", {"kpi": "signup", "cohort": cohort}, exposed),
              Series("aivitals_kpi_conversions_total", {"kpi": "signup", "cohort": cohort}, converted)]
    s += [Series("aivitals_business_outcomes_total", {"outcome_kind": "ticket", "cohort": "treatment"}, 2),
          Series("aivitals_business_value_usd_total", {"outcome_kind": "ticket", "cohort": "treatment"}, 20)]
    return s


def _world_series() -> list[Series]:
    """Costs, units of work, people, incidents, training, GPUs and hosts."""
    s = [Series("aivitals_fixed_cost_usd_per_month", {"bucket": b}, v, False) for b, v in FIXED.items()]
    for cohort, buckets in WORK.items():
        s += _hist("aivitals_work_unit_duration_seconds", {"cohort": cohort}, buckets, 3000)
    s += [Series("aivitals_human_cost_usd_total", {"cohort": c}, v) for c, v in (("treatment", 8), ("control", 12))]
    s += [Series("aivitals_active_users", {"window": "7d"}, 300, False),
          Series("aivitals_eligible_users", {}, 1000, False)]
    s += [Series("aivitals_overrides_total", {**SVC, "action": a}, n)
          for a, n in (("suggested", 10), ("overridden", 2), ("reversed", 1))]
    s += _hist("aivitals_time_to_value_seconds", {}, TTV, 90000)
    s += [Series("aivitals_survey_responses_total", {"category": c}, n)
          for c, n in (("promoter", 5), ("passive", 3), ("detractor", 2))]
    s += [Series("aivitals_incident_time_to_detect_seconds_sum", {"severity": "high"}, 1800),
          Series("aivitals_incident_time_to_detect_seconds_count", {"severity": "high"}, 1),
          Series("aivitals_incident_time_to_resolve_seconds_sum", {"severity": "high"}, 7200),
          Series("aivitals_incident_time_to_resolve_seconds_count", {"severity": "high"}, 1)]
    s += [Series("aivitals_incidents_total", {"severity": "high", "incident_source": src}, 1)
          for src in ("api", "alertmanager")]
    s += [Series("aivitals_incidents_open", {"severity": "high"}, 2, False)]
    s += [Series("aivitals_model_last_trained_timestamp_seconds", MODEL, TRAINED, False),
          Series("aivitals_ground_truth_last_timestamp_seconds", MODEL, GROUND_TRUTH, False)]
    gpu = {"instance": "node1:9400", "gpu": "0", "uuid": "GPU-1", "gpu_name": "H100", "mig_instance": ""}
    s += [Series("aivitals_gpu_utilization_ratio", gpu, 0.5, False),
          Series("aivitals_gpu_memory_used_bytes", gpu, 60e9, False),
          Series("aivitals_gpu_memory_total_bytes", gpu, 80e9, False),
          Series("aivitals_gpu_power_watts", gpu, 250, False),
          Series("aivitals_gpu_temperature_celsius", gpu, 71, False)]
    s += [Series("aivitals_collector_errors_total", {"instance": "node1:9400", "field": "gpu_power"}, 2)]
    s += [Series("aivitals_host_cpu_utilization_ratio", {"instance": "node1:9400"}, 0.25, False),
          Series("aivitals_host_memory_utilization_ratio", {"instance": "node1:9400"}, 0.5, False),
          Series("aivitals_capacity_requests_per_second", SVC, CAPACITY, False)]
    s += [Series(FEATURE_PSI, {**MODEL, "feature": f}, v, False) for f, v in PSI.items()]
    return s


Expected = dict[Labels, float]


def _one(value: float, **labels: str) -> Expected:
    return {tuple(sorted(labels.items())): value}


def _matching(name: str, match: dict[str, str | tuple[str, ...]]) -> list[Series]:
    def ok(s: Series) -> bool:
        for key, want in match.items():
            have = s.labels.get(key, "")
            if (have not in want) if isinstance(want, tuple) else (have != want):
                return False
        return True

    found = [s for s in series() if s.name == name and ok(s)]
    # sum() adds in the order storage returns series: sorted by their labels
    return sorted(found, key=lambda s: sorted(s.labels.items()))


def rate_sum(name: str, window: float, **match: str | tuple[str, ...]) -> float:
    """sum(rate(name{match}[window])), adding in Prometheus's order."""
    total: float | None = None
    for s in _matching(name, match):
        value = prom_rate(s.value, window)
        total = value if total is None else total + value
    if total is None:
        raise KeyError(f"no scenario series {name}{match}")
    return total


def increase_sum(name: str, window: float, **match: str | tuple[str, ...]) -> float:
    """sum(increase(...)): integer rates make every increase, and so the sum, exact."""
    return float(sum(s.value * window for s in _matching(name, match)))


def expected(record: str, window: str | None, eval_seconds: float) -> Expected:
    """The value(s) the record must have, from the scenario, by hand."""
    w = float(seconds(window)) if window else 0.0
    return expectation_for(record)(w, eval_seconds, dict(SVC))


def _ece(w: float) -> float:
    gaps = [abs(conf * w - correct * w) for _, correct, conf in CALIBRATION.values()]
    return (gaps[0] + gaps[1]) / (sum(n for n, _, _ in CALIBRATION.values()) * w)


def _kpi(w: float) -> tuple[float, float, float, float]:
    (nt, ct), (nc, cc) = KPI["treatment"], KPI["control"]
    return ct * w, nt * w, cc * w, nc * w


def _zscore(w: float) -> float:
    ct, nt, cc, nc = _kpi(w)
    pooled = (ct + cc) / (nt + nc)
    return (ct / nt - cc / nc) / math.sqrt(pooled * (1 - pooled) * (1 / nt + 1 / nc))


_FIXED = FIXED["compute"] + FIXED["storage"]
REQ = "aivitals_requests_total"
CONF = "aivitals_confusion_total"
EVAL = "aivitals_evaluations_total"
OVR = "aivitals_overrides_total"
#: Minutes of rate1m the peak subquery sees at the short test's evaluation time (1m .. 6h10m).
PEAK_POINTS = 370


def _requests(w: float) -> float:
    return rate_sum(REQ, w)


def _peak() -> float:
    return quantile_over_time(0.99, [_requests(60.0)] * PEAK_POINTS)


def _score(evaluator: str, w: float) -> float:
    return (rate_sum("aivitals_quality_score_sum", w, evaluator=evaluator)
            / rate_sum("aivitals_quality_score_count", w, evaluator=evaluator))


def _verdict(evaluator: str, verdict: str, w: float) -> float:
    return rate_sum(EVAL, w, evaluator=evaluator, verdict=verdict) / rate_sum(EVAL, w, evaluator=evaluator)


def _per(key: str, values: dict[str, float], **labels: str) -> Expected:
    return {tuple(sorted({**labels, key: k}.items())): v for k, v in values.items()}


_EXPECTED: dict[str, Callable[[float, float, dict[str, str]], Expected]] = {
    "service_model:aivitals_requests:rate": lambda w, t, sm: _one(_requests(w), **sm),
    "service_model_outcome:aivitals_requests:rate": lambda w, t, sm: _per(
        "outcome", {o: prom_rate(r, w) for o, r in OUTCOMES.items()}, **sm),
    "service_model:aivitals_request_duration_seconds:p50_rate": lambda w, t, sm: _one(
        quantile_of(0.5, LATENCY, w), **sm),
    "service_model:aivitals_request_duration_seconds:p95_rate": lambda w, t, sm: _one(
        quantile_of(0.95, LATENCY, w), **sm),
    "service_model:aivitals_request_duration_seconds:p99_rate": lambda w, t, sm: _one(
        quantile_of(0.99, LATENCY, w), **sm),
    "service_model:aivitals_request_duration_seconds:p99_p50_ratio_rate5m": lambda w, t, sm: _one(
        quantile_of(0.99, LATENCY, 300.0) / quantile_of(0.5, LATENCY, 300.0), **sm),
    "service_model:aivitals_time_to_first_chunk_seconds:p95_rate5m": lambda w, t, sm: _one(
        quantile_of(0.95, TTFT, 300.0), **sm),
    "service_model:aivitals_slo_latency_errors:ratio_rate": lambda w, t, sm: _one(
        1 - prom_rate(LATENCY["2.56"], w) / prom_rate(LATENCY["+Inf"], w), **sm),
    "service_model:aivitals_request_errors:ratio_rate": lambda w, t, sm: _one(
        rate_sum(REQ, w, outcome=("error", "timeout")) / _requests(w), **sm),
    "service_model:aivitals_requests:rate1m_p99_1d": lambda w, t, sm: _one(_peak(), **sm),
    "service_model:aivitals_capacity:utilization_peak1d": lambda w, t, sm: _one(_peak() / CAPACITY, **sm),
    "service_model_token_type:aivitals_tokens:rate5m": lambda w, t, sm: _per(
        "token_type", {k: rate_sum("aivitals_tokens_total", 300.0, token_type=k)
                       for k in ("input", "output", "cached_input")}, **sm),
    "service_model:aivitals_cost_usd:rate1h": lambda w, t, sm: _one(
        rate_sum("aivitals_cost_usd_total", 3600.0) * 3600, **sm),
    "service_model:aivitals_cost_per_inference_usd:rate": lambda w, t, sm: _one(
        rate_sum("aivitals_cost_usd_total", w) / _requests(w), **sm),
    "model:aivitals_accuracy:ratio_rate": lambda w, t, sm: _one(
        rate_sum(CONF, w, class_outcome=("tp", "tn")) / rate_sum(CONF, w), model="m1"),
    "model:aivitals_precision:ratio_rate": lambda w, t, sm: _one(
        rate_sum(CONF, w, class_outcome="tp") / rate_sum(CONF, w, class_outcome=("tp", "fp")), model="m1"),
    "model:aivitals_recall:ratio_rate": lambda w, t, sm: _one(
        rate_sum(CONF, w, class_outcome="tp") / rate_sum(CONF, w, class_outcome=("tp", "fn")), model="m1"),
    "model:aivitals_f1:ratio_rate": lambda w, t, sm: _one(
        2 * rate_sum(CONF, w, class_outcome="tp")
        / (2 * rate_sum(CONF, w, class_outcome="tp") + rate_sum(CONF, w, class_outcome=("fp", "fn"))), model="m1"),
    "model:aivitals_calibration_error:ece_increase": lambda w, t, sm: _one(_ece(w), model="m1"),
    "model:aivitals_feature_psi:max1d": lambda w, t, sm: _one(PSI["f2"], model="m1"),
    "service_model_cache:aivitals_cache_hit:ratio_rate": lambda w, t, sm: _one(
        rate_sum("aivitals_cache_requests_total", w, result="hit") / rate_sum("aivitals_cache_requests_total", w),
        cache="prompt", **sm),
    "service_model:aivitals_groundedness:mean_rate": lambda w, t, sm: _one(_score("groundedness", w), **sm),
    "service_model:aivitals_context_precision:mean_rate": lambda w, t, sm: _one(_score("context_precision", w), **sm),
    "service_model:aivitals_context_recall:mean_rate": lambda w, t, sm: _one(_score("context_recall", w), **sm),
    "service_model:aivitals_hallucination:ratio_rate": lambda w, t, sm: _one(_verdict("hallucination", "fail", w),
                                                                             **sm),
    "service_model:aivitals_citation:ratio_rate": lambda w, t, sm: _one(_verdict("citation", "pass", w), **sm),
    "service_model:aivitals_unmetered:ratio_rate": lambda w, t, sm: _one(
        rate_sum("aivitals_unmetered_requests_total", w) / _requests(w), **sm),
    "service_model:aivitals_refusable_requests:rate1h": lambda w, t, sm: _one(
        rate_sum(REQ, 3600.0, operation=CAN_REFUSE), **sm),
    "service_model:aivitals_refusal:ratio_rate": lambda w, t, sm: _one(
        rate_sum(REQ, w, outcome="refused") / _requests(w), **sm),
    "suite_model:aivitals_jailbreak_resistance:ratio": lambda w, t, sm: _one(
        1 - _probe_sum("successes", "current") / _probe_sum("attempts", "current"), **PROBE_SUITE),
    "suite_model_category_release:aivitals_probe_attack_success:ratio": lambda w, t, sm: {
        tuple(sorted({**PROBE_SUITE, "probe_category": c, "release": r}.items())): float(s) / float(n)
        for c, releases in PROBE.items() for r, (_, n, s) in releases.items()},
    "suite_model_category:aivitals_probe_attack_success:zscore": lambda w, t, sm: {
        tuple(sorted({**PROBE_SUITE, "probe_category": c}.items())): _probe_z(c) for c in PROBE},
    "suite_model:aivitals_probe_attack_success:zscore": lambda w, t, sm: _one(_probe_z(None), **PROBE_SUITE),
    "suite_model:aivitals_jailbreak_regression:zscore": lambda w, t, sm: _one(
        max(_probe_z(None), *(_probe_z(c) for c in PROBE)), **PROBE_SUITE),
    "service_model_pii_kind:aivitals_pii_detections:rate": lambda w, t, sm: _one(
        rate_sum("aivitals_pii_detections_total", w), pii_kind="email", **sm),
    "service_model:aivitals_toxicity:p99_rate": lambda w, t, sm: _one(quantile_of(0.99, TOXICITY, w), **sm),
    "group:aivitals_group_accuracy:ratio": lambda w, t, sm: {
        tuple(sorted({"model": "m1", "attribute": "age", "group": g}.items())): (r * w) / (r * w + f * w)
        for g, (r, f) in GROUPS.items()},
    "model_attribute:aivitals_fairness_gap:ratio": lambda w, t, sm: _one(
        (40 * 86400.0) / (40 * 86400.0 + 10 * 86400.0) - (30 * 86400.0) / (30 * 86400.0 + 20 * 86400.0),
        model="m1", attribute="age"),
    **error_analysis.EXPECTED,
    "kpi:aivitals_kpi_delta:ratio_increase": lambda w, t, sm: _one(
        _kpi(w)[0] / _kpi(w)[1] - _kpi(w)[2] / _kpi(w)[3], kpi="signup"),
    "kpi:aivitals_kpi_delta:zscore_increase": lambda w, t, sm: _one(_zscore(w), kpi="signup"),
    "cohort:aivitals_work_unit_duration_seconds:p50_rate": lambda w, t, sm: {
        (("cohort", c),): quantile_of(0.5, b, w) for c, b in WORK.items()},
    "cohort:aivitals_cost_per_unit_usd:increase": lambda w, t, sm: {
        (("cohort", "treatment"),): (8 * w) / (4 * w), (("cohort", "control"),): (12 * w) / (4 * w)},
    "namespace:aivitals_adoption:ratio": lambda w, t, sm: _one(300 / 1000),
    "service_model:aivitals_override:ratio_rate": lambda w, t, sm: _one(
        rate_sum(OVR, w, action="overridden") / rate_sum(OVR, w, action="suggested"), **sm),
    "service_model:aivitals_override_reversal:ratio_rate": lambda w, t, sm: _one(
        rate_sum(OVR, w, action="reversed") / rate_sum(OVR, w, action="overridden"), **sm),
    "namespace:aivitals_time_to_value_seconds:p50_rate": lambda w, t, sm: _one(quantile_of(0.5, TTV, w)),
    "namespace:aivitals_nps:ratio_increase": lambda w, t, sm: _one((5 * w - 2 * w) / (5 * w + 3 * w + 2 * w)),
    "namespace:aivitals_roi:ratio_increase": lambda w, t, sm: _one(
        (20 * w) / (increase_sum("aivitals_cost_usd_total", w) + _FIXED * w / MONTH)),
    "namespace:aivitals_cost_per_outcome_usd:increase": lambda w, t, sm: _one(
        (increase_sum("aivitals_cost_usd_total", w) + _FIXED * w / MONTH) / (2 * w)),
    "bucket:aivitals_fixed_cost_usd:per_month": lambda w, t, sm: {(("bucket", b),): v for b, v in FIXED.items()},
    "severity:aivitals_incident_time_to_detect_seconds:mean_increase": lambda w, t, sm: _one(
        (1800 * w) / (1 * w), severity="high"),
    "severity:aivitals_incident_time_to_resolve_seconds:mean_increase": lambda w, t, sm: _one(
        (7200 * w) / (1 * w), severity="high"),
    "model:aivitals_retraining_gap_seconds:max": lambda w, t, sm: _one(GROUND_TRUTH - TRAINED, model="m1"),
    "model:aivitals_model_training_age_seconds:max": lambda w, t, sm: _one(t - TRAINED, model="m1"),
    "instance_gpu:aivitals_gpu_utilization:avg": lambda w, t, sm: _one(0.5, instance="node1:9400", gpu="0"),
    "instance_gpu:aivitals_gpu_memory_utilization:ratio": lambda w, t, sm: _one(
        60e9 / 80e9, instance="node1:9400", gpu="0"),
    "instance_gpu:aivitals_gpu_power_watts:sum": lambda w, t, sm: _one(250.0, instance="node1:9400", gpu="0"),
    "instance:aivitals_host_cpu_utilization:max": lambda w, t, sm: _one(0.25, instance="node1:9400"),
    "instance:aivitals_host_memory_utilization:max": lambda w, t, sm: _one(0.5, instance="node1:9400"),
    "stage:aivitals_sdk_errors:rate": lambda w, t, sm: _one(rate_sum("aivitals_sdk_errors_total", w), stage="cost"),
    "instance_field:aivitals_collector_errors:rate": lambda w, t, sm: _one(
        rate_sum("aivitals_collector_errors_total", w), instance="node1:9400", field="gpu_power"),
    "severity:aivitals_incidents:increase7d": lambda w, t, sm: _one(
        increase_sum("aivitals_incidents_total", 7 * 86400.0), severity="high"),
    "severity:aivitals_incidents_open:sum": lambda w, t, sm: _one(2.0, severity="high"),
    "instance_gpu:aivitals_gpu_temperature_celsius:max": lambda w, t, sm: _one(71.0, instance="node1:9400", gpu="0"),
    "job:aivitals_series:count": lambda w, t, sm: _one(
        float(sum(1 for s in series() if s.name.startswith("aivitals_")))),
    "service_model:aivitals_evaluator_dropped:ratio_rate5m": lambda w, t, sm: _one(
        rate_sum("aivitals_evaluator_responses_total", 300.0, evaluation_status="dropped")
        / rate_sum("aivitals_evaluator_responses_total", 300.0), **sm),
    "service_model_judge_result:aivitals_judge_calls:rate5m": lambda w, t, sm: _one(
        rate_sum("aivitals_judge_calls_total", 300.0), judge_result="ok", **sm),
}


def _probe_sum(which: str, release: str, category: str | None = None) -> float:
    """sum(aivitals_probe_<which>{release=...}) over categories, added in Prometheus's (label) order."""
    total = None
    for c in sorted(PROBE) if category is None else [category]:
        _, attempts, successes = PROBE[c][release]
        value = float(attempts if which == "attempts" else successes)
        total = value if total is None else total + value
    assert total is not None
    return total


def _probe_z(category: str | None) -> float:
    """The pooled two-proportion z-score, in the recording rule's order of operations."""
    s1, n1 = _probe_sum("successes", "current", category), _probe_sum("attempts", "current", category)
    s0, n0 = _probe_sum("successes", "previous", category), _probe_sum("attempts", "previous", category)
    pooled = (s1 + s0) / (n1 + n0)
    return (s1 / n1 - s0 / n0) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))


class NoExpectation(LookupError):
    """A recorded series the rule tests have no hand-computed value for; the message says what to add."""


def expectation_for(pattern: str) -> Callable[[float, float, dict[str, str]], Expected]:
    """The hand computation for a record name pattern (its WINDOW token stripped)."""
    key = pattern.replace("WINDOW", "")
    try:
        return _EXPECTED[key]
    except KeyError:
        raise NoExpectation(
            f"the rule tests have no expected value for the record {pattern!r}: add {key!r} to _EXPECTED in "
            "src/aivitals/codegen/rules/scenario.py (its value worked out by hand from the scenario's series), and the "
            "input series it reads to series() there") from None
