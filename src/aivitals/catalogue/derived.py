"""Series recorded beside the vitals: companions a panel or an alert reads.

p50 and p99 beside p95, precision, recall and F1 beside accuracy, the KPI
delta's z-score, the SLIs of the SLOs. Same tokens as a vital's query.
"""

from __future__ import annotations

from dataclasses import replace

from .schema import Dashboard, Derived, Unit
from .slos import LATENCY_SLO_SECONDS, SLO_WINDOWS
from .values import CAN_REFUSE

SM = "namespace, service, model"
M = "namespace, model"
_LAT = "aivitals_request_duration_seconds"
_LAT_REC = "service_model:aivitals_request_duration_seconds"


def _confusion(cells: str) -> str:
    """Sum of confusion counters over ``cells`` (a class_outcome regex) by model, rate over WINDOW."""
    return f'sum by ({M}) (rate(aivitals_confusion_total{{SEL, class_outcome=~"{cells}"}}[WINDOW]))'


def _share(num: str, den: str) -> str:
    return f"({num} or 0 * {den}) / {den}"


def _kpi(metric: str, cohort: str) -> str:
    return f'sum by (namespace, kpi) (increase(aivitals_kpi_{metric}_total{{SEL, cohort="{cohort}"}}[WINDOW]))'


#: A missing cell (a perfect model has no fp) counts as 0, not as no data.
_TP0 = f"({_confusion('tp')} or 0 * {_confusion('tp|fp|tn|fn')})"
_FPFN0 = f"({_confusion('fp|fn')} or 0 * {_confusion('tp|fp|tn|fn')})"

_CT, _NT = _kpi("conversions", "treatment"), _kpi("exposures", "treatment")
_CC, _NC = _kpi("conversions", "control"), _kpi("exposures", "control")
_POOLED = f"(({_CT} + {_CC}) / ({_NT} + {_NC}))"

#: A probe suite's results compare only within one suite version, for one model.
PROBE = "namespace, suite, suite_version, model"


def _probe(metric: str, by: str, release: str) -> str:
    return f'sum by ({by}) (aivitals_probe_{metric}{{SEL, release="{release}"}})'


def _probe_zscore(by: str) -> str:
    """One-sided two-proportion z-score (pooled) of the current release's attack successes over the previous's."""
    s1, n1 = _probe("successes", by, "current"), _probe("attempts", by, "current")
    s0, n0 = _probe("successes", by, "previous"), _probe("attempts", by, "previous")
    pooled = f"(({s1} + {s0}) / ({n1} + {n0}))"
    return f"({s1} / {n1} - {s0} / {n0}) / sqrt({pooled} * (1 - {pooled}) * (1 / {n1} + 1 / {n0}))"


_DERIVED: tuple[Derived, ...] = (
    Derived("service_model:aivitals_requests:rateWINDOW",
            f"sum by ({SM}) (rate(aivitals_requests_total{{SEL}}[WINDOW]))",
            "Model calls per second.", Unit.NONE, ("1m", "5m", "1h"), "reqps"),
    Derived("service_model_outcome:aivitals_requests:rateWINDOW",
            f"sum by ({SM}, outcome) (rate(aivitals_requests_total{{SEL}}[WINDOW]))",
            "Model calls per second, by how they ended.", Unit.NONE, ("5m",), "reqps"),
    *(
        Derived(f"{_LAT_REC}:p{int(q * 100)}_rateWINDOW",
                f"histogram_quantile({q}, sum by (le, {SM}) (rate({_LAT}_bucket{{SEL}}[WINDOW])))",
                f"{int(q * 100)}th percentile of the model call's duration.", Unit.SECONDS, ("5m", "1h"), "s")
        for q in (0.5, 0.99)
    ),
    Derived(f"{_LAT_REC}:p99_p50_ratio_rate5m",
            f"{_LAT_REC}:p99_rate5m{{SEL}} / {_LAT_REC}:p50_rate5m{{SEL}}",
            "How many times slower the slowest 1% of calls are than the median: a wide gap is a tail problem "
            "(retries, cold caches, long prompts), not a capacity one.", Unit.NONE, (), "x"),
    Derived("service_model:aivitals_time_to_first_chunk_seconds:p95_rate5m",
            f"histogram_quantile(0.95, sum by (le, {SM}) "
            "(rate(aivitals_time_to_first_chunk_seconds_bucket{SEL}[5m])))",
            "95th percentile time to the first streamed chunk.", Unit.SECONDS, (), "s"),
    Derived("service_model:aivitals_slo_latency_errors:ratio_rateWINDOW",
            f'1 - sum by ({SM}) (rate({_LAT}_bucket{{SEL, le="{LATENCY_SLO_SECONDS:g}"}}[WINDOW]))'
            f" / sum by ({SM}) (rate({_LAT}_count{{SEL}}[WINDOW]))",
            f"Share of calls slower than {LATENCY_SLO_SECONDS:g} s: the latency SLO's bad events.",
            Unit.RATIO, SLO_WINDOWS, "percentunit"),
    Derived("service_model:aivitals_capacity:utilization_peak1d",
            "service_model:aivitals_requests:rate1m_p99_1d{SEL}"
            f" / on ({SM}) group_left () max by ({SM}) (aivitals_capacity_requests_per_second{{SEL}})",
            "Peak-minute throughput as a share of the configured capacity.", Unit.RATIO, (), "percentunit"),
    Derived("service_model_token_type:aivitals_tokens:rate5m",
            f"sum by ({SM}, token_type) (rate(aivitals_tokens_total{{SEL}}[5m]))",
            "Tokens per second, by kind.", Unit.TOKENS, (), "short"),
    Derived("service_model:aivitals_cost_usd:rate1h",
            f"sum by ({SM}) (rate(aivitals_cost_usd_total{{SEL}}[1h])) * 3600",
            "Spend per hour, in dollars.", Unit.USD, (), "currencyUSD"),
    Derived("model:aivitals_precision:ratio_rateWINDOW", _share(_confusion("tp"), _confusion("tp|fp")),
            "Share of positive predictions that were right.", Unit.RATIO, ("1h", "1d"), "percentunit"),
    Derived("model:aivitals_recall:ratio_rateWINDOW", _share(_confusion("tp"), _confusion("tp|fn")),
            "Share of actual positives the model found.", Unit.RATIO, ("1h", "1d"), "percentunit"),
    Derived("model:aivitals_f1:ratio_rateWINDOW",
            f"2 * {_TP0} / (2 * {_TP0} + {_FPFN0})",
            "Harmonic mean of precision and recall: 2TP / (2TP + FP + FN).", Unit.RATIO, ("1h", "1d"),
            "percentunit"),
    Derived("kpi:aivitals_kpi_delta:zscore_increaseWINDOW",
            f"({_CT} / {_NT} - {_CC} / {_NC})"
            f" / sqrt({_POOLED} * (1 - {_POOLED}) * (1 / {_NT} + 1 / {_NC}))",
            "Two-proportion z-score of the KPI delta (pooled standard error): beyond 1.96 in either direction "
            "the delta is unlikely to be noise.", Unit.NONE, ("7d", "1d"), "none"),
    Derived("suite_model_category_release:aivitals_probe_attack_success:ratio",
            f"sum by ({PROBE}, probe_category, release) (aivitals_probe_successes{{SEL}})"
            f" / sum by ({PROBE}, probe_category, release) (aivitals_probe_attempts{{SEL}})",
            "Share of a probe category's attacks that succeeded, for the current and the previous release.",
            Unit.RATIO, (), "percentunit"),
    Derived("suite_model_category:aivitals_probe_attack_success:zscore", _probe_zscore(f"{PROBE}, probe_category"),
            "Two-proportion z-score (pooled) of a probe category's attack success, current release over previous: "
            "how many standard errors worse the new release is.", Unit.NONE, (), "none"),
    Derived("suite_model:aivitals_probe_attack_success:zscore", _probe_zscore(PROBE),
            "The same z-score over the whole suite.", Unit.NONE, (), "none"),
    Derived("service_model:aivitals_refusable_requests:rate1h",
            f'sum by ({SM}) (rate(aivitals_requests_total{{SEL, operation=~"{"|".join(CAN_REFUSE)}"}}[1h]))',
            "Calls per second of operations a model can decline (chat, completions, agents): the refusal-zero "
            "alert applies only where there are some.", Unit.NONE, (), "reqps"),
    Derived("group:aivitals_group_accuracy:ratio",
            _share('sum by (namespace, model, attribute, group) '
                   '(increase(aivitals_group_predictions_total{SEL, correct="true"}[WINDOW]))',
                   "sum by (namespace, model, attribute, group) "
                   "(increase(aivitals_group_predictions_total{SEL}[WINDOW]))"),
            "Accuracy of each declared group over the last day (fairness).", Unit.RATIO, ("1d",), "percentunit"),
    Derived("service_model:aivitals_override_reversal:ratio_rateWINDOW",
            _share(f'sum by ({SM}) (rate(aivitals_overrides_total{{SEL, action="reversed"}}[WINDOW]))',
                   f'sum by ({SM}) (rate(aivitals_overrides_total{{SEL, action="overridden"}}[WINDOW]))'),
            "Share of overrides later reversed: people overruling a model that was right.", Unit.RATIO, ("1d",),
            "percentunit"),
    Derived("model:aivitals_model_training_age_seconds:max",
            f"time() - max by ({M}) (aivitals_model_last_trained_timestamp_seconds{{SEL}})",
            "Time since the model was last trained.", Unit.SECONDS, (), "s"),
    Derived("severity:aivitals_incidents:increase7d",
            "sum by (namespace, severity) (increase(aivitals_incidents_total{SEL}[7d]))",
            "Incidents opened in the last week, by severity.", Unit.NONE, (), "short"),
    Derived("severity:aivitals_incidents_open:sum",
            "sum by (namespace, severity) (aivitals_incidents_open{SEL})",
            "Incidents open now, by severity.", Unit.NONE, (), "short"),
    Derived("instance_gpu:aivitals_gpu_temperature_celsius:max",
            "max by (namespace, instance, gpu) (aivitals_gpu_temperature_celsius{SEL})",
            "GPU core temperature: sustained heat throttles clocks before anything fails.", Unit.CELSIUS, (),
            "celsius"),
    Derived("job:aivitals_series:count",
            'count by (namespace, job) ({SEL, __name__=~"aivitals_.+"})',
            "aivitals series each scrape job exposes: the known targets, so one that stops reporting is noticed.",
            Unit.NONE, (), "short"),
    Derived("service_model:aivitals_evaluator_dropped:ratio_rate5m",
            _share(f'sum by ({SM}) (rate(aivitals_evaluator_responses_total{{SEL, evaluation_status="dropped"}}[5m]))',
                   f'sum by ({SM}) (rate(aivitals_evaluator_responses_total'
                   f'{{SEL, evaluation_status=~"evaluated|dropped"}}[5m]))'),
            "Evaluations dropped: the share of sampled responses the evaluation worker dropped because its queue "
            "was full; above a few percent the quality vitals rest on fewer responses than the sample rate "
            "promises.",
            Unit.RATIO, (), "percentunit"),
    Derived("service_model_judge_result:aivitals_judge_calls:rate5m",
            f"sum by ({SM}, judge_result) (rate(aivitals_judge_calls_total{{SEL}}[5m]))",
            "LLM judge calls: calls to the opt-in LLM judge per second, by how they ended (timeouts, garbage "
            "answers, rate budget and circuit breaker skips); its tokens are in aivitals_judge_tokens_total.",
            Unit.NONE, (), "reqps"),
)

_E, _Q, _B, _O = Dashboard.ENGINEERING, Dashboard.QUALITY, Dashboard.BUSINESS, Dashboard.OPERATIONS
#: The dashboard each companion series is shown on (next to the vital it explains).
_PLACEMENT: dict[str, Dashboard] = {
    "service_model:aivitals_requests:rateWINDOW": _E,
    "service_model_outcome:aivitals_requests:rateWINDOW": _E,
    f"{_LAT_REC}:p50_rateWINDOW": _E,
    f"{_LAT_REC}:p99_rateWINDOW": _E,
    f"{_LAT_REC}:p99_p50_ratio_rate5m": _E,
    "service_model:aivitals_time_to_first_chunk_seconds:p95_rate5m": _E,
    "service_model:aivitals_slo_latency_errors:ratio_rateWINDOW": _E,
    "service_model:aivitals_capacity:utilization_peak1d": _E,
    "service_model_token_type:aivitals_tokens:rate5m": _E,
    "service_model:aivitals_cost_usd:rate1h": _E,
    "model:aivitals_precision:ratio_rateWINDOW": _Q,
    "model:aivitals_recall:ratio_rateWINDOW": _Q,
    "model:aivitals_f1:ratio_rateWINDOW": _Q,
    "kpi:aivitals_kpi_delta:zscore_increaseWINDOW": _B,
    "group:aivitals_group_accuracy:ratio": _Q,
    "suite_model_category_release:aivitals_probe_attack_success:ratio": _Q,
    "service_model:aivitals_override_reversal:ratio_rateWINDOW": _B,
    "model:aivitals_model_training_age_seconds:max": _O,
    "job:aivitals_series:count": _O,
    "service_model:aivitals_evaluator_dropped:ratio_rate5m": _O,
    "service_model_judge_result:aivitals_judge_calls:rate5m": _O,
    "severity:aivitals_incidents:increase7d": _O,
    "severity:aivitals_incidents_open:sum": _O,
    "instance_gpu:aivitals_gpu_temperature_celsius:max": Dashboard.GPU_HOST,
}

DERIVED: tuple[Derived, ...] = tuple(replace(d, dashboard=_PLACEMENT.get(d.record)) for d in _DERIVED)
