"""Which rows each dashboard has and what goes in them: vital ids and derived record names."""

from __future__ import annotations

from ..catalogue import Dashboard

_LAT = "service_model:aivitals_request_duration_seconds"

LAYOUT: dict[Dashboard, tuple[tuple[str, tuple[str, ...]], ...]] = {
    Dashboard.ENGINEERING: (
        ("Traffic", ("service_model:aivitals_requests:rateWINDOW", "service_model_outcome:aivitals_requests:rateWINDOW",
                     "throughput_peak", "service_model:aivitals_capacity:utilization_peak1d")),
        ("Latency", ("latency_p95", f"{_LAT}:p50_rateWINDOW", f"{_LAT}:p99_rateWINDOW",
                     f"{_LAT}:p99_p50_ratio_rate5m", "service_model:aivitals_time_to_first_chunk_seconds:p95_rate5m")),
        ("Errors and SLOs", ("error_rate", "service_model:aivitals_slo_latency_errors:ratio_rateWINDOW")),
        ("Cost and cache", ("cost_per_inference", "service_model:aivitals_cost_usd:rate1h",
                            "service_model_token_type:aivitals_tokens:rate5m", "unmetered_share", "cache_hit_rate")),
        ("Drift", ("distribution_shift", "feature_drift", "prediction_drift")),
    ),
    Dashboard.QUALITY: (
        ("Task quality", ("accuracy", "model:aivitals_precision:ratio_rateWINDOW",
                          "model:aivitals_recall:ratio_rateWINDOW", "model:aivitals_f1:ratio_rateWINDOW",
                          "calibration_error", "fairness_gap", "group:aivitals_group_accuracy:ratio")),
        ("Retrieval and grounding", ("groundedness", "context_precision", "context_recall", "citation_rate",
                                     "hallucination_rate")),
        ("Safety", ("refusal_rate", "jailbreak_resistance", "jailbreak_regression",
                    "suite_model_category_release:aivitals_probe_attack_success:ratio", "pii_leakage",
                    "toxicity_p99")),
    ),
    Dashboard.BUSINESS: (
        ("Outcomes", ("kpi_delta", "kpi:aivitals_kpi_delta:zscore_increaseWINDOW", "cost_per_outcome", "roi",
                      "fixed_costs")),
        ("Adoption", ("adoption_rate", "nps", "override_rate",
                      "service_model:aivitals_override_reversal:ratio_rateWINDOW", "time_to_value")),
        ("Units of work", ("cycle_time", "cost_per_unit")),
    ),
    Dashboard.OPERATIONS: (
        ("Incidents", ("severity:aivitals_incidents_open:sum", "severity:aivitals_incidents:increase7d",
                       "time_to_detect", "time_to_resolve")),
        ("Retraining freshness", ("retraining_gap", "model:aivitals_model_training_age_seconds:max")),
        ("aivitals itself", ("sdk_errors", "collector_errors", "job:aivitals_series:count",
                             "service_model:aivitals_evaluator_dropped:ratio_rate5m",
                             "service_model_judge_result:aivitals_judge_calls:rate5m")),
    ),
    Dashboard.GPU_HOST: (
        ("GPU", ("gpu_utilization", "gpu_memory_utilization", "gpu_power",
                 "instance_gpu:aivitals_gpu_temperature_celsius:max")),
        ("Host", ("host_cpu_utilization", "host_memory_utilization")),
    ),
}

TITLES: dict[Dashboard, tuple[str, str]] = {
    Dashboard.EXECUTIVE: ("aivitals / Executive", "Six numbers that say whether the AI works, readable in 30 seconds."),
    Dashboard.ENGINEERING: ("aivitals / Engineering", "Traffic, latency, errors, cost, cache and drift."),
    Dashboard.QUALITY: ("aivitals / Quality & safety", "Task quality, grounding and safety of the answers."),
    Dashboard.BUSINESS: ("aivitals / Business", "What changed in the world: KPI, cost per outcome, adoption, ROI."),
    Dashboard.OPERATIONS: ("aivitals / Operations", "Incidents, retraining freshness and aivitals' own health."),
    Dashboard.GPU_HOST: ("aivitals / GPU & host", "GPU and host saturation."),
}
