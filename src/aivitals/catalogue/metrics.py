"""Every series family aivitals records: the SDK, the sidecar and the collectors.

Record what aggregates (counters, histograms); ratios, quantiles and deltas
are derived by recording rules from these (see ``vitals.py``).
"""

from __future__ import annotations

from .labels import CALL_LABELS
from .schema import Metric, MetricType, Source, Unit

C, G, H, I = MetricType.COUNTER, MetricType.GAUGE, MetricType.HISTOGRAM, MetricType.INFO

#: OpenTelemetry's advisory buckets for gen_ai.client.operation.duration.
DURATION_BUCKETS = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92)
#: OpenTelemetry's advisory buckets for gen_ai.server.time_to_first_token.
TTFT_BUCKETS = (0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
#: OpenTelemetry's advisory buckets for gen_ai.server.time_per_output_token.
TPOT_BUCKETS = (0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5)
#: OpenTelemetry's advisory buckets for gen_ai.client.token.usage (powers of 4).
TOKEN_BUCKETS = tuple(float(4**i) for i in range(14))
#: Scores in 0..1, finer at the top where thresholds sit (0.7, 0.9, 0.95).
SCORE_BUCKETS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.99, 1.0)
#: Human-scale durations: minutes to weeks (labels, incidents, cycle time, time-to-value).
HUMAN_DURATION_BUCKETS = (60.0, 300.0, 900.0, 1800.0, 3600.0, 7200.0, 14400.0, 28800.0, 86400.0, 172800.0,
                          604800.0, 1209600.0, 2592000.0)

_SDK, _SIDECAR, _COLLECTOR, _CONFIG = Source.SDK, Source.SIDECAR, Source.COLLECTOR, Source.CONFIG

METRICS: tuple[Metric, ...] = (
    # --- SDK: one model call -------------------------------------------------
    Metric("aivitals_requests_total", C, Unit.NONE, "Model calls, by how they ended.",
           (*CALL_LABELS, "outcome"), _SDK),
    Metric("aivitals_request_errors_total", C, Unit.NONE, "Failed model calls, by exception class.",
           (*CALL_LABELS, "error_type"), _SDK),
    Metric("aivitals_request_duration_seconds", H, Unit.SECONDS, "Duration of a model call, end to end.",
           CALL_LABELS, _SDK, buckets=DURATION_BUCKETS),
    Metric("aivitals_time_to_first_chunk_seconds", H, Unit.SECONDS,
           "Time from the call to the first chunk of a streamed response.", CALL_LABELS, _SDK, buckets=TTFT_BUCKETS),
    Metric("aivitals_time_per_output_chunk_seconds", H, Unit.SECONDS,
           "Mean time between chunks after the first, per streamed response.", CALL_LABELS, _SDK,
           buckets=TPOT_BUCKETS),
    Metric("aivitals_tokens_total", C, Unit.TOKENS,
           "Tokens used. input and output are totals; cached_input and cache_creation are part of input, "
           "reasoning is part of output.", (*CALL_LABELS, "token_type"), _SDK),
    Metric("aivitals_request_tokens", H, Unit.TOKENS, "Tokens per call (input and output totals).",
           (*CALL_LABELS, "token_type"), _SDK, buckets=TOKEN_BUCKETS,
           label_values=(("token_type", ("input", "output")),)),
    Metric("aivitals_cost_usd_total", C, Unit.USD, "Spend on model calls from the price table, in US dollars.",
           ("service", "model", "provider", "cost_kind"), _SDK),
    Metric("aivitals_unpriced_requests_total", C, Unit.NONE,
           "Calls whose model is not in the price table: their cost is not guessed.",
           ("service", "model", "provider"), _SDK),
    Metric("aivitals_cache_requests_total", C, Unit.NONE, "Cache lookups, by cache and hit or miss.",
           ("service", "model", "cache", "result"), _SDK, label_values=(("result", ("hit", "miss")),)),
    Metric("aivitals_overrides_total", C, Unit.NONE,
           "Model suggestions shown, overridden by a person, and overrides later reversed.",
           ("service", "model", "action"), _SDK),
    Metric("aivitals_quality_score", H, Unit.NONE, "Quality scores in 0..1 from an evaluator.",
           ("service", "model", "evaluator"), _SDK, buckets=SCORE_BUCKETS),
    Metric("aivitals_evaluations_total", C, Unit.NONE,
           "Responses judged by a pass/fail evaluator (hallucination: fail = unsupported claim; "
           "citation: pass = cites a source).", ("service", "model", "evaluator", "verdict"), _SDK),
    Metric("aivitals_pii_detections_total", C, Unit.NONE,
           "Responses in which personal data or a secret was detected, by kind. The text is never kept.",
           ("service", "model", "pii_kind"), _SDK),
    Metric("aivitals_jailbreak_probe_pass_ratio", G, Unit.RATIO,
           "Share of the jailbreak probe suite the model resisted, per release.", ("service", "model", "version"),
           _SDK),
    # --- SDK health -------------------------------------------------------------
    Metric("aivitals_sdk_errors_total", C, Unit.NONE,
           "Failures inside aivitals itself; user calls are never affected.", ("stage",), _SDK),
    Metric("aivitals_sdk_folded_label_values_total", C, Unit.NONE,
           "Label values folded into 'other' because they were unknown, malformed or over the cap.",
           ("label",), _SDK),
    Metric("aivitals_build", I, Unit.NONE, "aivitals version.", ("version",), _SDK),
    # --- sidecar: predictions and delayed labels ---------------------------------
    Metric("aivitals_labels_total", C, Unit.NONE, "Delayed labels received, by whether their prediction was found.",
           ("model", "result"), _SIDECAR, label_values=(("result", ("joined", "unknown", "expired")),)),
    Metric("aivitals_confusion_total", C, Unit.NONE, "Labelled predictions by confusion-matrix cell.",
           ("model", "class_outcome"), _SIDECAR),
    Metric("aivitals_calibration_predictions_total", C, Unit.NONE, "Labelled predictions per confidence bin.",
           ("model", "bin"), _SIDECAR),
    Metric("aivitals_calibration_correct_total", C, Unit.NONE, "Correct labelled predictions per confidence bin.",
           ("model", "bin"), _SIDECAR),
    Metric("aivitals_calibration_confidence_sum_total", C, Unit.NONE,
           "Sum of the stated confidence of labelled predictions per bin.", ("model", "bin"), _SIDECAR),
    Metric("aivitals_group_predictions_total", C, Unit.NONE,
           "Labelled predictions by declared group and correctness (fairness).",
           ("model", "attribute", "group", "correct"), _SIDECAR),
    Metric("aivitals_label_delay_seconds", H, Unit.SECONDS, "Time from prediction to its label.", ("model",),
           _SIDECAR, buckets=HUMAN_DURATION_BUCKETS),
    Metric("aivitals_model_roc_auc_ratio", G, Unit.RATIO, "ROC-AUC over stored labelled scores in a window.",
           ("model", "window"), _SIDECAR),
    Metric("aivitals_model_log_loss", G, Unit.NONE, "Log loss over stored labelled scores in a window.",
           ("model", "window"), _SIDECAR),
    # --- sidecar: business ------------------------------------------------------------
    Metric("aivitals_kpi_exposures_total", C, Unit.NONE, "Units exposed to the KPI, by cohort.",
           ("kpi", "cohort"), _SIDECAR),
    Metric("aivitals_kpi_conversions_total", C, Unit.NONE, "KPI conversions, by cohort.", ("kpi", "cohort"),
           _SIDECAR),
    Metric("aivitals_business_outcomes_total", C, Unit.NONE, "Business outcomes the AI contributed to.",
           ("outcome_kind", "cohort"), _SIDECAR),
    Metric("aivitals_business_value_usd_total", C, Unit.USD, "Business value attributed to the AI, in dollars.",
           ("outcome_kind", "cohort"), _SIDECAR),
    Metric("aivitals_work_unit_duration_seconds", H, Unit.SECONDS, "Cycle time of one unit of work.",
           ("cohort",), _SIDECAR, buckets=HUMAN_DURATION_BUCKETS),
    Metric("aivitals_human_cost_usd_total", C, Unit.USD, "Human cost of units of work, in dollars.", ("cohort",),
           _SIDECAR),
    Metric("aivitals_fixed_cost_usd_per_month", G, Unit.NONE,
           "Configured fixed monthly cost by bucket (compute, storage, maintenance), in dollars.", ("bucket",),
           _CONFIG),
    # --- sidecar: users -----------------------------------------------------------------
    Metric("aivitals_active_users", G, Unit.NONE, "Distinct active users in a trailing window (computed in-process).",
           ("window",), _SIDECAR, label_values=(("window", ("1d", "7d", "28d")),)),
    Metric("aivitals_eligible_users", G, Unit.NONE, "Users eligible to use the AI feature (from config).", (),
           _CONFIG),
    Metric("aivitals_time_to_value_seconds", H, Unit.SECONDS,
           "Per user, time from first use to first productive outcome.", (), _SIDECAR,
           buckets=HUMAN_DURATION_BUCKETS),
    Metric("aivitals_survey_responses_total", C, Unit.NONE, "Survey answers by NPS category.", ("category",),
           _SIDECAR),
    # --- sidecar: incidents and lifecycle ---------------------------------------------
    Metric("aivitals_incidents_total", C, Unit.NONE, "Incidents opened.", ("severity", "incident_source"),
           _SIDECAR),
    Metric("aivitals_incident_time_to_detect_seconds", H, Unit.SECONDS, "Time from occurrence to detection.",
           ("severity",), _SIDECAR, buckets=HUMAN_DURATION_BUCKETS),
    Metric("aivitals_incident_time_to_resolve_seconds", H, Unit.SECONDS, "Time from detection to resolution.",
           ("severity",), _SIDECAR, buckets=HUMAN_DURATION_BUCKETS),
    Metric("aivitals_incidents_open", G, Unit.NONE, "Incidents open now.", ("severity",), _SIDECAR),
    Metric("aivitals_model_last_trained_timestamp_seconds", G, Unit.TIMESTAMP, "When the model was last trained.",
           ("model",), _SIDECAR),
    Metric("aivitals_ground_truth_last_timestamp_seconds", G, Unit.TIMESTAMP,
           "When the newest ground truth for the model arrived.", ("model",), _SIDECAR),
    Metric("aivitals_training_runs_total", C, Unit.NONE, "Training runs completed.", ("model",), _SIDECAR),
    Metric("aivitals_events_total", C, Unit.NONE, "Sidecar events, by kind and result.",
           ("event_kind", "result"), _SIDECAR,
           label_values=(("result", ("accepted", "duplicate", "rejected")),)),
    Metric("aivitals_store_evictions_total", C, Unit.NONE, "Stored predictions or user keys evicted by retention.",
           ("event_kind",), _SIDECAR),
    # --- drift ---------------------------------------------------------------------------
    Metric("aivitals_feature_values", H, Unit.NONE,
           "Production values of a feature, bucketed at the reference profile's quantiles.",
           ("model", "feature"), _SDK),
    Metric("aivitals_feature_reference_ratio", G, Unit.RATIO,
           "Share of reference data at or below each bucket edge (cumulative, like le).",
           ("model", "feature", "le"), _SDK),
    # --- GPU and host --------------------------------------------------------------------
    *(
        Metric(f"aivitals_gpu_{name}", kind, unit, help_, ("gpu", "uuid", "gpu_name", "mig_instance", *extra),
               _COLLECTOR)
        for name, kind, unit, help_, extra in (
            ("utilization_ratio", G, Unit.RATIO, "Share of time a kernel ran on the GPU.", ()),
            ("memory_utilization_ratio", G, Unit.RATIO, "Share of time device memory was read or written.", ()),
            ("memory_used_bytes", G, Unit.BYTES, "Device memory in use.", ()),
            ("memory_free_bytes", G, Unit.BYTES, "Device memory free.", ()),
            ("memory_total_bytes", G, Unit.BYTES, "Device memory installed.", ()),
            ("power_watts", G, Unit.WATTS, "Power draw.", ()),
            ("energy_joules_total", C, Unit.JOULES, "Energy consumed since the driver loaded.", ()),
            ("temperature_celsius", G, Unit.CELSIUS, "GPU core temperature.", ()),
            ("sm_clock_hertz", G, Unit.HERTZ, "Streaming multiprocessor clock.", ()),
            ("throttled", G, Unit.NONE, "1 while a clock throttle reason is active.", ("throttle_reason",)),
            ("ecc_errors_total", C, Unit.NONE, "ECC errors since the driver loaded.", ("ecc_type",)),
            ("process_memory_used_bytes", G, Unit.BYTES, "Device memory used by this process.", ()),
        )
    ),
    Metric("aivitals_gpu_seconds_total", C, Unit.SECONDS, "GPU time spent on tracked self-hosted calls.",
           ("service", "model"), _SDK),
    Metric("aivitals_collector_errors_total", C, Unit.NONE, "NVML or psutil reads that failed and were skipped.",
           ("field",), _COLLECTOR),
    Metric("aivitals_host_cpu_utilization_ratio", G, Unit.RATIO, "Host CPU busy share.", (), _COLLECTOR),
    Metric("aivitals_host_memory_utilization_ratio", G, Unit.RATIO, "Host memory in use.", (), _COLLECTOR),
    Metric("aivitals_process_threads", G, Unit.NONE, "Threads of this process.", (), _COLLECTOR),
    Metric("aivitals_capacity_requests_per_second", G, Unit.NONE,
           "Configured capacity in calls per second; peak throughput is judged against it.", ("service", "model"),
           _CONFIG),
    # --- thresholds exported as series, so they change without regenerating rules ---
    Metric("aivitals_threshold", G, Unit.NONE,
           "A threshold from the config file; absent means the catalogue default applies.",
           ("threshold", "level", "service", "model"), _CONFIG),
)

METRICS_BY_NAME: dict[str, Metric] = {m.name: m for m in METRICS}
