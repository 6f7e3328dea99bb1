"""Series recorded beside the vitals: companions a panel or an alert reads.

p50 and p99 beside p95, precision, recall and F1 beside accuracy, the KPI
delta's z-score, the SLIs of the SLOs. Same tokens as a vital's query.
"""

from __future__ import annotations

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

#: The confusion matrix over a model's declared classes, its increase over WINDOW with a ``class`` label copied
#: from ``axis`` (predicted_class or actual_class). The diagonal keeps a cell whose two copies match: the same
#: predicted and actual class. (RE2 has no back-references, so equality is a set match on the copied label.)
def _by_class(axis: str) -> str:
    return (f'label_replace(increase(aivitals_class_predictions_total{{SEL}}[WINDOW]), "class", "$1", "{axis}", '
            '"(.*)")')


_CLASS = "namespace, model, class"
_DIAGONAL = (f"sum by ({_CLASS}) ({_by_class('predicted_class')} and on ({_CLASS}, predicted_class, actual_class) "
             f"{_by_class('actual_class')})")

#: aivitals series per scrape job: the known targets, which the target alerts watch.
SERIES_COUNT = "job:aivitals_series:count"

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


DERIVED: tuple[Derived, ...] = (
    Derived(
        record="service_model:aivitals_requests:rateWINDOW",
        query=f"sum by ({SM}) (rate(aivitals_requests_total{{SEL}}[WINDOW]))",
        description="Model calls per second.",
        unit=Unit.NONE, windows=("1m", "5m", "1h"), grafana_unit="reqps",
        dashboard=Dashboard.ENGINEERING, row="Traffic", order=1,
    ),
    Derived(
        record="service_model_outcome:aivitals_requests:rateWINDOW",
        query=f"sum by ({SM}, outcome) (rate(aivitals_requests_total{{SEL}}[WINDOW]))",
        description="Model calls per second, by how they ended.",
        unit=Unit.NONE, windows=("5m",), grafana_unit="reqps",
        dashboard=Dashboard.ENGINEERING, row="Traffic", order=2,
    ),
    *(
        Derived(
            record=f"{_LAT_REC}:p{int(q * 100)}_rateWINDOW",
            query=f"histogram_quantile({q}, sum by (le, {SM}) (rate({_LAT}_bucket{{SEL}}[WINDOW])))",
            description=f"{int(q * 100)}th percentile of the model call's duration.",
            unit=Unit.SECONDS, windows=("5m", "1h"), grafana_unit="s",
            dashboard=Dashboard.ENGINEERING, row="Latency", order=order,
        )
        for q, order in ((0.5, 2), (0.99, 3))
    ),
    Derived(
        record=f"{_LAT_REC}:p99_p50_ratio_rate5m",
        query=f"{_LAT_REC}:p99_rate5m{{SEL}} / {_LAT_REC}:p50_rate5m{{SEL}}",
        description="How many times slower the slowest 1% of calls are than the median: a wide gap is a tail "
                    "problem (retries, cold caches, long prompts), not a capacity one.",
        unit=Unit.NONE, grafana_unit="x",
        dashboard=Dashboard.ENGINEERING, row="Latency", order=4,
    ),
    Derived(
        record="service_model:aivitals_time_to_first_chunk_seconds:p95_rate5m",
        query=f"histogram_quantile(0.95, sum by (le, {SM}) "
              "(rate(aivitals_time_to_first_chunk_seconds_bucket{SEL}[5m])))",
        description="95th percentile time to the first streamed chunk.",
        unit=Unit.SECONDS, grafana_unit="s",
        dashboard=Dashboard.ENGINEERING, row="Latency", order=5,
    ),
    Derived(
        record="service_model:aivitals_slo_latency_errors:ratio_rateWINDOW",
        query=f'1 - sum by ({SM}) (rate({_LAT}_bucket{{SEL, le="{LATENCY_SLO_SECONDS:g}"}}[WINDOW]))'
              f" / sum by ({SM}) (rate({_LAT}_count{{SEL}}[WINDOW]))",
        description=f"Share of calls slower than {LATENCY_SLO_SECONDS:g} s: the latency SLO's bad events.",
        unit=Unit.RATIO, windows=SLO_WINDOWS, grafana_unit="percentunit",
        dashboard=Dashboard.ENGINEERING, row="Errors and SLOs", order=2,
    ),
    Derived(
        record="service_model:aivitals_capacity:utilization_peak1d",
        query="service_model:aivitals_requests:rate1m_p99_1d{SEL}"
              f" / on ({SM}) group_left () max by ({SM}) (aivitals_capacity_requests_per_second{{SEL}})",
        description="Peak-minute throughput as a share of the configured capacity.",
        unit=Unit.RATIO, grafana_unit="percentunit",
        dashboard=Dashboard.ENGINEERING, row="Traffic", order=4,
    ),
    Derived(
        record="service_model_token_type:aivitals_tokens:rate5m",
        query=f"sum by ({SM}, token_type) (rate(aivitals_tokens_total{{SEL}}[5m]))",
        description="Tokens per second, by kind.",
        unit=Unit.TOKENS, grafana_unit="short",
        dashboard=Dashboard.ENGINEERING, row="Cost and cache", order=3,
    ),
    Derived(
        record="service_model:aivitals_cost_usd:rate1h",
        query=f"sum by ({SM}) (rate(aivitals_cost_usd_total{{SEL}}[1h])) * 3600",
        description="Spend per hour, in dollars.",
        unit=Unit.USD, grafana_unit="currencyUSD",
        dashboard=Dashboard.ENGINEERING, row="Cost and cache", order=2,
    ),
    Derived(
        record="model:aivitals_precision:ratio_rateWINDOW",
        query=_share(_confusion("tp"), _confusion("tp|fp")),
        description="Share of positive predictions that were right.",
        unit=Unit.RATIO, windows=("1h", "1d"), grafana_unit="percentunit",
        dashboard=Dashboard.QUALITY, row="Task quality", order=2,
    ),
    Derived(
        record="model:aivitals_recall:ratio_rateWINDOW",
        query=_share(_confusion("tp"), _confusion("tp|fn")),
        description="Share of actual positives the model found.",
        unit=Unit.RATIO, windows=("1h", "1d"), grafana_unit="percentunit",
        dashboard=Dashboard.QUALITY, row="Task quality", order=3,
    ),
    Derived(
        record="model:aivitals_f1:ratio_rateWINDOW",
        query=f"2 * {_TP0} / (2 * {_TP0} + {_FPFN0})",
        description="Harmonic mean of precision and recall: 2TP / (2TP + FP + FN).",
        unit=Unit.RATIO, windows=("1h", "1d"), grafana_unit="percentunit",
        dashboard=Dashboard.QUALITY, row="Task quality", order=4,
    ),
    Derived(
        record="kpi:aivitals_kpi_delta:zscore_increaseWINDOW",
        query=f"({_CT} / {_NT} - {_CC} / {_NC})"
              f" / sqrt({_POOLED} * (1 - {_POOLED}) * (1 / {_NT} + 1 / {_NC}))",
        description="Two-proportion z-score of the KPI delta (pooled standard error): beyond 1.96 in either "
                    "direction the delta is unlikely to be noise.",
        unit=Unit.NONE, windows=("7d", "1d"), grafana_unit="none",
        dashboard=Dashboard.BUSINESS, row="Outcomes", order=2,
    ),
    Derived(
        record="suite_model_category_release:aivitals_probe_attack_success:ratio",
        query=f"sum by ({PROBE}, probe_category, release) (aivitals_probe_successes{{SEL}})"
              f" / sum by ({PROBE}, probe_category, release) (aivitals_probe_attempts{{SEL}})",
        description="Share of a probe category's attacks that succeeded, for the current and the previous release.",
        unit=Unit.RATIO, grafana_unit="percentunit",
        dashboard=Dashboard.QUALITY, row="Safety", order=4,
    ),
    Derived(
        record="suite_model_category:aivitals_probe_attack_success:zscore",
        query=_probe_zscore(f"{PROBE}, probe_category"),
        description="Two-proportion z-score (pooled) of a probe category's attack success, current release over "
                    "previous: how many standard errors worse the new release is.",
        unit=Unit.NONE, grafana_unit="none",
    ),
    Derived(
        record="suite_model:aivitals_probe_attack_success:zscore",
        query=_probe_zscore(PROBE),
        description="The same z-score over the whole suite.",
        unit=Unit.NONE, grafana_unit="none",
    ),
    Derived(
        record="service_model:aivitals_refusable_requests:rate1h",
        query=f'sum by ({SM}) (rate(aivitals_requests_total{{SEL, operation=~"{"|".join(CAN_REFUSE)}"}}[1h]))',
        description="Calls per second of operations a model can decline (chat, completions, agents): the "
                    "refusal-zero alert applies only where there are some.",
        unit=Unit.NONE, grafana_unit="reqps",
    ),
    Derived(
        record="group:aivitals_group_accuracy:ratio",
        query=_share('sum by (namespace, model, attribute, group) '
                     '(increase(aivitals_group_predictions_total{SEL, correct="true"}[WINDOW]))',
                     "sum by (namespace, model, attribute, group) "
                     "(increase(aivitals_group_predictions_total{SEL}[WINDOW]))"),
        description="Accuracy of each declared group over the last day (fairness).",
        unit=Unit.RATIO, windows=("1d",), grafana_unit="percentunit",
        dashboard=Dashboard.QUALITY, row="Task quality", order=7,
    ),
    Derived(
        record="model_class:aivitals_class_precision:ratio_increaseWINDOW",
        query=_share(_DIAGONAL, f"sum by ({_CLASS}) ({_by_class('predicted_class')})"),
        description="Per-class precision of a model with declared classes: of the predictions of a class, the "
                    "share that were that class (error analysis; 'other' holds the undeclared classes).",
        unit=Unit.RATIO, windows=("1d",), grafana_unit="percentunit",
        dashboard=Dashboard.QUALITY, row="Task quality", order=8,
    ),
    Derived(
        record="model_class:aivitals_class_recall:ratio_increaseWINDOW",
        query=_share(_DIAGONAL, f"sum by ({_CLASS}) ({_by_class('actual_class')})"),
        description="Per-class recall of a model with declared classes: of the items truly of a class, the share "
                    "the model gave that class (error analysis).",
        unit=Unit.RATIO, windows=("1d",), grafana_unit="percentunit",
        dashboard=Dashboard.QUALITY, row="Task quality", order=9,
    ),
    Derived(
        record="group_outcome:aivitals_group_errors:increaseWINDOW",
        query="sum by (namespace, model, attribute, group, class_outcome) "
              '(increase(aivitals_group_confusion_total{SEL, class_outcome=~"fp|fn"}[WINDOW]))',
        description="False positives and false negatives of each declared group over the last day (error "
                    "analysis): where the model's mistakes fall, and of which kind.",
        unit=Unit.NONE, windows=("1d",), grafana_unit="short",
        dashboard=Dashboard.QUALITY, row="Task quality", order=10,
    ),
    Derived(
        record="service_model:aivitals_override_reversal:ratio_rateWINDOW",
        query=_share(f'sum by ({SM}) (rate(aivitals_overrides_total{{SEL, action="reversed"}}[WINDOW]))',
                     f'sum by ({SM}) (rate(aivitals_overrides_total{{SEL, action="overridden"}}[WINDOW]))'),
        description="Share of overrides later reversed: people overruling a model that was right.",
        unit=Unit.RATIO, windows=("1d",), grafana_unit="percentunit",
        dashboard=Dashboard.BUSINESS, row="Adoption", order=4,
    ),
    Derived(
        record="model:aivitals_model_training_age_seconds:max",
        query=f"time() - max by ({M}) (aivitals_model_last_trained_timestamp_seconds{{SEL}})",
        description="Time since the model was last trained.",
        unit=Unit.SECONDS, grafana_unit="s",
        dashboard=Dashboard.OPERATIONS, row="Retraining freshness", order=2,
    ),
    Derived(
        record="severity:aivitals_incidents:increase7d",
        query="sum by (namespace, severity) (increase(aivitals_incidents_total{SEL}[7d]))",
        description="Incidents opened in the last week, by severity.",
        unit=Unit.NONE, grafana_unit="short",
        dashboard=Dashboard.OPERATIONS, row="Incidents", order=2,
    ),
    Derived(
        record="severity:aivitals_incidents_open:sum",
        query="sum by (namespace, severity) (aivitals_incidents_open{SEL})",
        description="Incidents open now, by severity.",
        unit=Unit.NONE, grafana_unit="short",
        dashboard=Dashboard.OPERATIONS, row="Incidents", order=1,
    ),
    Derived(
        record="instance_gpu:aivitals_gpu_temperature_celsius:max",
        query="max by (namespace, instance, gpu) (aivitals_gpu_temperature_celsius{SEL})",
        description="GPU core temperature: sustained heat throttles clocks before anything fails.",
        unit=Unit.CELSIUS, grafana_unit="celsius",
        dashboard=Dashboard.GPU_HOST, row="GPU", order=4,
    ),
    Derived(
        record=SERIES_COUNT,
        query='count by (namespace, job) ({SEL, __name__=~"aivitals_.+"})',
        description="aivitals series each scrape job exposes: the known targets, so one that stops reporting is "
                    "noticed.",
        unit=Unit.NONE, grafana_unit="short",
        dashboard=Dashboard.OPERATIONS, row="aivitals itself", order=3,
    ),
    Derived(
        record="service_model:aivitals_evaluator_dropped:ratio_rate5m",
        query=_share(f'sum by ({SM}) (rate(aivitals_evaluator_responses_total'
                     f'{{SEL, evaluation_status="dropped"}}[5m]))',
                     f'sum by ({SM}) (rate(aivitals_evaluator_responses_total'
                     f'{{SEL, evaluation_status=~"evaluated|dropped"}}[5m]))'),
        description="Evaluations dropped: the share of sampled responses the evaluation worker dropped because its "
                    "queue was full; above a few percent the quality vitals rest on fewer responses than the sample "
                    "rate promises.",
        unit=Unit.RATIO, grafana_unit="percentunit",
        dashboard=Dashboard.OPERATIONS, row="aivitals itself", order=4,
    ),
    Derived(
        record="service_model_judge_result:aivitals_judge_calls:rate5m",
        query=f"sum by ({SM}, judge_result) (rate(aivitals_judge_calls_total{{SEL}}[5m]))",
        description="LLM judge calls: calls to the opt-in LLM judge per second, by how they ended (timeouts, "
                    "garbage answers, rate budget and circuit breaker skips); its tokens are in "
                    "aivitals_judge_tokens_total.",
        unit=Unit.NONE, grafana_unit="reqps",
        dashboard=Dashboard.OPERATIONS, row="aivitals itself", order=5,
    ),
)

