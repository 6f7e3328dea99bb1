"""The closed label allow-list. No metric carries a label that is not here.

Values follow the OpenTelemetry GenAI semantic conventions where they exist
(``gen_ai.operation.name``, ``gen_ai.provider.name``, ``gen_ai.token.type``).
"""

from __future__ import annotations

from .schema import Label
from .values import (
    CACHE_KINDS,
    COST_KINDS,
    EVALUATION_METHODS,
    EVALUATION_STATUSES,
    EVALUATORS,
    JUDGE_RESULTS,
    OPERATIONS,
    OTHER,
    OUTCOMES,
    PII_KINDS,
    PROBE_CATEGORIES,
    PROBE_RELEASES,
    PROVIDERS,
    SDK_STAGES,
    TOKEN_TYPES,
    UNMETERED_REASONS,
)

LABELS: dict[str, Label] = {
    label.name: label
    for label in (
        Label("service", "The service that calls the model; set once per process.", max_values=20),
        Label("model", "The model name as the provider knows it.", max_values=50, example="gpt-4o-mini"),
        Label("operation", "What kind of call it is.", values=OPERATIONS),
        Label("provider", "Who serves the model.", values=PROVIDERS),
        Label("outcome", "How the call ended.", values=OUTCOMES),
        Label("error_type", "The exception class of a failed call.", max_values=30, example="APITimeoutError"),
        Label("token_type", "Which tokens.", values=TOKEN_TYPES),
        Label("cost_kind", "What the money was spent on.", values=COST_KINDS),
        Label("cache", "Which cache was consulted.", values=CACHE_KINDS),
        Label("result", "Hit or miss, accepted or rejected: the result of a lookup or an event.",
              values=("hit", "miss", "accepted", "duplicate", "rejected", "joined", "unknown", "expired")),
        Label("evaluator", "The evaluator that scored a response.", values=EVALUATORS),
        Label("verdict", "An evaluator's pass or fail verdict.", values=("pass", "fail")),
        Label("pii_kind", "The kind of personal data or secret detected.", values=PII_KINDS),
        Label("method", "How an evaluator reached its score or verdict.", values=EVALUATION_METHODS),
        Label("evaluation_status", "What became of a response handed to the evaluation worker.",
              values=EVALUATION_STATUSES),
        Label("judge_result", "How a call to the LLM judge ended.", values=JUDGE_RESULTS),
        Label("action", "What a person did with a model's suggestion.", values=("suggested", "overridden", "reversed")),
        Label("stage", "Where in the SDK an internal error happened.", values=SDK_STAGES),
        Label("unmetered_reason", "Why a call's tokens are unknown.", values=UNMETERED_REASONS),
        Label("label", "A label name, for folding counts.", max_values=32),
        Label("version", "A version string.", max_values=20),
        Label("replica", "The sidecar replica that committed the events (several replicas on PostgreSQL; the pod "
              "name by default). Series exported by each replica carry it; the rules sum over it.", max_values=100),
        Label("suite", "A probe suite's name.", max_values=5, example="aivitals-jailbreak"),
        Label("suite_version", "A probe suite's version: results compare only within one.", max_values=10),
        Label("model_version", "The release of a model a probe run tested (a tag or image digest).", max_values=40),
        Label("probe_category", "The attack category of a probe.", values=PROBE_CATEGORIES),
        Label("release", "Which of a model's two latest probed releases.", values=PROBE_RELEASES),
        # sidecar: labels and quality
        Label("class_outcome", "Confusion-matrix cell of a labelled prediction.", values=("tp", "fp", "tn", "fn")),
        Label("bin", "Confidence bin of a prediction (upper edge).",
              values=("0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9", "1.0")),
        Label("attribute", "A declared fairness attribute (from config).", max_values=10),
        Label("group", "A declared group of a fairness attribute (from config).", max_values=50),
        Label("correct", "Whether a labelled prediction was right.", values=("true", "false")),
        Label("predicted_class", "The class a multi-class model predicted: one of its declared classes (from config) "
              "or 'other'.", max_values=21, example="billing"),
        Label("actual_class", "The true class of a labelled multi-class prediction: one of the model's declared "
              "classes (from config) or 'other'.", max_values=21, example="billing"),
        Label("class", "A declared class of a multi-class model (from config), or 'other': the class a per-class "
              "precision or recall is about.", max_values=21, example="billing"),
        Label("window", "The trailing window an in-process figure covers.", values=("1h", "1d", "7d", "28d", "30d")),
        # sidecar: business
        Label("kpi", "The business KPI (from config).", max_values=20),
        Label("cohort", "Experiment arm.", values=("treatment", "control")),
        Label("outcome_kind", "The business outcome unit (from config).", max_values=20, example="ticket_resolved"),
        Label("bucket", "Fixed monthly cost bucket.", values=("compute", "storage", "maintenance")),
        Label("category", "NPS category of a survey answer.", values=("promoter", "passive", "detractor")),
        Label("severity", "Incident severity.", values=("critical", "high", "medium", "low")),
        Label("incident_source", "Where an incident came from.", values=("api", "alertmanager")),
        Label("event_kind", "The sidecar event kind.", max_values=20),
        # drift
        Label("feature", "An input feature of a reference profile, or __prediction__.", max_values=500),
        Label("bound", "Upper edge of a reference profile's bin (histograms call it le).", max_values=64),
        Label("feature_bin", "Index of a drift bin of a reference profile (0 = lowest; the last is above every "
              "edge, or 'other' for a categorical feature).", max_values=64, example="3"),
        Label("reason", "Why the drift recorder rejected a value.",
              values=("missing", "wrong_type", "not_finite", "wrong_shape", "unknown_feature", "internal")),
        # infra
        Label("gpu", "NVML device index.", max_values=64),
        Label("uuid", "NVML device UUID.", max_values=64),
        Label("gpu_name", "NVML device product name.", max_values=16),
        Label("mig_instance", "MIG GPU instance id, or '' for a whole GPU.", max_values=64),
        Label("throttle_reason", "An NVML clock throttle reason.",
              values=("gpu_idle", "applications_clocks_setting", "sw_power_cap", "hw_slowdown", "sync_boost",
                      "sw_thermal_slowdown", "hw_thermal_slowdown", "hw_power_brake_slowdown",
                      "display_clock_setting", OTHER)),
        Label("ecc_type", "ECC error type.", values=("corrected", "uncorrected")),
        Label("field", "An NVML or psutil field that failed.", max_values=40),
        # thresholds exported as series
        Label("threshold", "A catalogue threshold's config key.", max_values=100),
        Label("level", "Severity level of a threshold.", values=("warning", "critical")),
    )
}

#: Labels every per-call SDK metric carries.
CALL_LABELS = ("service", "model", "operation", "provider")
