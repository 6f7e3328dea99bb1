"""The figures of the monthly business review (``aivitals report``), read from raw series.

Every query reads recorded series, never recording rules, so a review works
on any Prometheus-compatible store that kept the data, whether or not the
rules ran. ``WINDOW`` is the whole period (a calendar month, or one day for
the trend charts) and the query is evaluated at its end; each yields one
series, or none when its series are absent: an absent figure, never a zero.
ROI and cost per outcome follow the vitals' definitions: value over model
spend plus fixed monthly costs pro rata (``MONTH_SECONDS``), and that total
over outcomes. Drift figures are added by the report from
``aivitals.catalogue.drift``, the one place that writes PSI in PromQL.
"""

from __future__ import annotations

from .schema import Figure, Format, Section
from .vitals import MONTH_SECONDS

P, O, C, H = Section.PERFORMANCE, Section.OPERATIONAL, Section.COST, Section.HUMAN


def _sel(extra: str) -> str:
    return "{SEL, " + extra + "}" if extra else "{SEL}"


def _increase(metric: str, extra: str = "") -> str:
    return f"sum(increase({metric}{_sel(extra)}[WINDOW]))"


def _share(metric: str, part: str, whole: str = "") -> str:
    """part/whole of a counter's increase; no part recorded reads 0 when the whole exists."""
    total = _increase(metric, whole)
    return f"({_increase(metric, part)} or 0 * {total}) / {total}"


def _mean(histogram: str, extra: str = "") -> str:
    return f"{_increase(histogram + '_sum', extra)} / {_increase(histogram + '_count', extra)}"


def _fixed(bucket: str) -> str:
    return (f'sum(avg_over_time(aivitals_fixed_cost_usd_per_month{{SEL, bucket="{bucket}"}}[WINDOW]))'
            f" * WINDOW_SECONDS / {MONTH_SECONDS}")


def _kpi_rate(cohort: str) -> str:
    c = f'cohort="{cohort}"'
    return f"{_increase('aivitals_kpi_conversions_total', c)} / {_increase('aivitals_kpi_exposures_total', c)}"


_CONF = "aivitals_confusion_total"
_REQ = "aivitals_requests_total"
_EVAL = "aivitals_evaluations_total"
_FIXED = ("aivitals_fixed_cost_usd_per_month",)
_TP, _TP_FN, _TP_FP = (_increase(_CONF, f'class_outcome{m}') for m in ('="tp"', '=~"tp|fn"', '=~"tp|fp"'))
_FP, _FN = (_increase(_CONF, f'class_outcome="{c}"') for c in ("fp", "fn"))
_OVERRIDDEN, _SUGGESTED = (_increase("aivitals_overrides_total", f'action="{a}"') for a in ("overridden", "suggested"))

FIGURES: tuple[Figure, ...] = (
    # --- performance ---------------------------------------------------------------------
    Figure("accuracy", "Accuracy", P, Format.RATIO, "Labelled predictions that were right.",
           _share(_CONF, 'class_outcome=~"tp|tn"'), (_CONF,), vital="accuracy", daily=True),
    Figure("precision", "Precision", P, Format.RATIO, "Of the predicted positives, the share truly positive.",
           _share(_CONF, 'class_outcome="tp"', 'class_outcome=~"tp|fp"'), (_CONF,)),
    Figure("recall", "Recall", P, Format.RATIO, "Of the actual positives, the share found.",
           _share(_CONF, 'class_outcome="tp"', 'class_outcome=~"tp|fn"'), (_CONF,)),
    Figure("f1", "F1 score", P, Format.RATIO, "2 TP / (2 TP + FP + FN): precision and recall balanced.",
           f"2 * ({_TP} or 0 * {_increase(_CONF)}) / ({_TP_FN} + {_TP_FP})",
           (_CONF,)),
    Figure("false_positives", "False positives", P, Format.COUNT,
           "Labelled predictions called positive that were negative (binary views).",
           f"{_FP} or 0 * {_increase(_CONF)}", (_CONF,)),
    Figure("false_negatives", "False negatives", P, Format.COUNT,
           "Labelled predictions called negative that were positive (binary views).",
           f"{_FN} or 0 * {_increase(_CONF)}", (_CONF,)),
    Figure("roc_auc", "ROC-AUC", P, Format.NUMBER,
           "The sidecar's ROC-AUC over its 30-day window at the month's end, averaged over models.",
           'avg(last_over_time(aivitals_model_roc_auc_ratio{SEL, window="30d"}[WINDOW]))',
           ("aivitals_model_roc_auc_ratio",)),
    Figure("log_loss", "Log loss", P, Format.NUMBER,
           "The sidecar's log loss over its 30-day window at the month's end, averaged over models.",
           'avg(last_over_time(aivitals_model_log_loss{SEL, window="30d"}[WINDOW]))', ("aivitals_model_log_loss",)),
    Figure("hallucination_rate", "Hallucination rate", P, Format.RATIO,
           "Evaluated responses with an unsupported claim.",
           _share(_EVAL, 'evaluator="hallucination", verdict="fail"', 'evaluator="hallucination"'), (_EVAL,),
           vital="hallucination_rate", daily=True),
    Figure("groundedness", "Groundedness", P, Format.RATIO, "Mean groundedness score of evaluated responses.",
           _mean("aivitals_quality_score", 'evaluator="groundedness"'), ("aivitals_quality_score",),
           vital="groundedness"),
    Figure("refusal_rate", "Refusal rate", P, Format.RATIO, "Calls the model declined to answer.",
           _share(_REQ, 'outcome="refused"'), (_REQ,), vital="refusal_rate"),
    # --- operational ------------------------------------------------------------------
    Figure("requests", "Model calls", O, Format.COUNT, "Model calls in the month.", _increase(_REQ), (_REQ,),
           daily=True),
    Figure("tokens", "Tokens", O, Format.COUNT, "Input plus output tokens.",
           _increase("aivitals_tokens_total", 'token_type=~"input|output"'), ("aivitals_tokens_total",)),
    Figure("latency_p95_seconds", "Latency p95", O, Format.SECONDS,
           "95th percentile of a call's duration over the month's calls.",
           "histogram_quantile(0.95, sum by (le) (increase(aivitals_request_duration_seconds_bucket{SEL}[WINDOW])))",
           ("aivitals_request_duration_seconds",), vital="latency_p95", daily=True),
    Figure("error_rate", "Error rate", O, Format.RATIO, "Calls that failed or timed out.",
           _share(_REQ, 'outcome=~"error|timeout"'), (_REQ,), vital="error_rate", daily=True),
    Figure("throughput_peak_rps", "Peak throughput", O, Format.PER_SECOND,
           "Calls per second in the busiest hour.",
           f"max_over_time(sum(rate({_REQ}{{SEL}}[1h]))[WINDOW:1h])", (_REQ,), vital="throughput_peak",
           judged=False, daily=True),
    Figure("override_rate", "Override rate", O, Format.RATIO, "Suggestions a person overrode.",
           f"({_OVERRIDDEN} or 0 * {_SUGGESTED}) / {_SUGGESTED}",
           ("aivitals_overrides_total",), vital="override_rate"),
    Figure("training_runs", "Retraining runs", O, Format.COUNT, "Training runs completed in the month.",
           _increase("aivitals_training_runs_total"), ("aivitals_training_runs_total",), vital="retraining_gap",
           judged=False),
    Figure("retraining_gap_seconds", "Retraining freshness gap", O, Format.SECONDS,
           "At the month's end, how much newer the newest ground truth is than the last training (worst model).",
           "max(max by (model) (last_over_time(aivitals_ground_truth_last_timestamp_seconds{SEL}[WINDOW]))"
           " - max by (model) (last_over_time(aivitals_model_last_trained_timestamp_seconds{SEL}[WINDOW])))",
           ("aivitals_ground_truth_last_timestamp_seconds", "aivitals_model_last_trained_timestamp_seconds"),
           vital="retraining_gap"),
    # --- cost --------------------------------------------------------------------------
    Figure("cost_inference_usd", "Inference (model calls)", C, Format.USD,
           "Spend on model calls from the price table.", _increase("aivitals_cost_usd_total"),
           ("aivitals_cost_usd_total",), vital="cost_per_inference", judged=False, daily=True),
    Figure("cost_compute_usd", "Compute (fixed)", C, Format.USD,
           "Configured monthly compute cost (training, hosting), pro rata for the month's length.",
           _fixed("compute"), _FIXED, vital="fixed_costs"),
    Figure("cost_storage_usd", "Storage (fixed)", C, Format.USD,
           "Configured monthly storage cost (data, model artefacts), pro rata.", _fixed("storage"), _FIXED,
           vital="fixed_costs"),
    Figure("cost_maintenance_usd", "Maintenance (fixed)", C, Format.USD,
           "Configured monthly maintenance cost (engineering time, monitoring, on-call), pro rata.",
           _fixed("maintenance"), _FIXED, vital="fixed_costs"),
    Figure("cost_total_usd", "Total cost", C, Format.USD,
           "Inference plus the fixed buckets that are configured.",
           sum_of=("cost_inference_usd", "cost_compute_usd", "cost_storage_usd", "cost_maintenance_usd"),
           vital="roi", judged=False),
    Figure("business_value_usd", "Business value", C, Format.USD, "Value the AI's outcomes brought, in dollars.",
           _increase("aivitals_business_value_usd_total"), ("aivitals_business_value_usd_total",), daily=True),
    Figure("outcomes", "Business outcomes", C, Format.COUNT, "Business outcomes the AI contributed to.",
           _increase("aivitals_business_outcomes_total"), ("aivitals_business_outcomes_total",)),
    Figure("roi", "ROI", C, Format.NUMBER, "Business value over total cost (the roi vital over the month).",
           ratio_of=("business_value_usd", "cost_total_usd"), vital="roi"),
    Figure("cost_per_outcome_usd", "Cost per outcome", C, Format.USD,
           "Total cost over business outcomes (the cost_per_outcome vital over the month).",
           ratio_of=("cost_total_usd", "outcomes"), vital="cost_per_outcome"),
    Figure("cost_per_inference_usd", "Cost per call", C, Format.USD, "Inference spend over model calls.",
           ratio_of=("cost_inference_usd", "requests"), vital="cost_per_inference"),
    # --- human and process ----------------------------------------------------------------
    Figure("kpi_delta", "KPI delta vs control", H, Format.RATIO,
           "Treatment minus control conversion rate over the month (KPIs pooled; one primary KPI is usual).",
           f"{_kpi_rate('treatment')} - {_kpi_rate('control')}",
           ("aivitals_kpi_conversions_total", "aivitals_kpi_exposures_total"), vital="kpi_delta"),
    Figure("adoption_rate", "Adoption rate", H, Format.RATIO,
           "Weekly active over eligible users, averaged over the month.",
           'max(avg_over_time(aivitals_active_users{SEL, window="7d"}[WINDOW]))'
           " / max(avg_over_time(aivitals_eligible_users{SEL}[WINDOW]))",
           ("aivitals_active_users", "aivitals_eligible_users"), vital="adoption_rate"),
    Figure("nps", "NPS", H, Format.POINTS, "Promoters minus detractors over the month's answers (-1..1).",
           _share("aivitals_survey_responses_total", 'category="promoter"')
           + " - " + _share("aivitals_survey_responses_total", 'category="detractor"'),
           ("aivitals_survey_responses_total",), vital="nps"),
    Figure("incidents", "Incidents", H, Format.COUNT, "Incidents opened in the month.",
           _increase("aivitals_incidents_total"), ("aivitals_incidents_total",), vital="time_to_detect",
           judged=False),
    Figure("time_to_detect_seconds", "Time to detect", H, Format.SECONDS,
           "Mean time from an incident occurring to its detection.",
           _mean("aivitals_incident_time_to_detect_seconds"), ("aivitals_incident_time_to_detect_seconds",),
           vital="time_to_detect"),
    Figure("time_to_resolve_seconds", "Time to resolve", H, Format.SECONDS,
           "Mean time from detection to resolution.", _mean("aivitals_incident_time_to_resolve_seconds"),
           ("aivitals_incident_time_to_resolve_seconds",), vital="time_to_resolve"),
)

FIGURES_BY_NAME: dict[str, Figure] = {f.name: f for f in FIGURES}

#: Error analysis, tables rather than figures: one series per cell over WINDOW (sidecar series: no service).
#: The month's confusion matrix over each model's declared classes ('other' holds the rest).
CLASS_MATRIX_QUERY = ("sum by (model, predicted_class, actual_class) "
                      "(increase(aivitals_class_predictions_total{SEL}[WINDOW]))")
#: False positives and negatives of each declared group (binary views).
GROUP_ERRORS_QUERY = ("sum by (model, attribute, group, class_outcome) "
                      '(increase(aivitals_group_confusion_total{SEL, class_outcome=~"fp|fn"}[WINDOW]))')

#: Whether the store holds any aivitals sample at an instant (within the 5-minute lookback), probed every
#: 5 minutes: how much of a month it covers. (``count_over_time`` over several names cannot be counted:
#: it drops the name, and two series differing only by name collide.)
COVERAGE_QUERY = 'count({SEL, __name__=~"aivitals_.+"})'
