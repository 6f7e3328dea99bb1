"""The catalogue entries the sidecar records, bound once at import.

A name missing from the catalogue fails here, at import, not at the first event.
"""

from __future__ import annotations

from aivitals.catalogue import METRICS_BY_NAME, Metric


def _m(name: str) -> Metric:
    return METRICS_BY_NAME[name]


LABELS = _m("aivitals_labels_total")
CONFUSION = _m("aivitals_confusion_total")
CALIBRATION_PREDICTIONS = _m("aivitals_calibration_predictions_total")
CALIBRATION_CORRECT = _m("aivitals_calibration_correct_total")
CALIBRATION_CONFIDENCE = _m("aivitals_calibration_confidence_sum_total")
GROUP_PREDICTIONS = _m("aivitals_group_predictions_total")
GROUP_CONFUSION = _m("aivitals_group_confusion_total")
CLASS_PREDICTIONS = _m("aivitals_class_predictions_total")
LABEL_DELAY = _m("aivitals_label_delay_seconds")
ROC_AUC = _m("aivitals_model_roc_auc_ratio")
LOG_LOSS = _m("aivitals_model_log_loss")
KPI_EXPOSURES = _m("aivitals_kpi_exposures_total")
KPI_CONVERSIONS = _m("aivitals_kpi_conversions_total")
OUTCOMES = _m("aivitals_business_outcomes_total")
OUTCOME_VALUE = _m("aivitals_business_value_usd_total")
WORK_UNIT_DURATION = _m("aivitals_work_unit_duration_seconds")
HUMAN_COST = _m("aivitals_human_cost_usd_total")
FIXED_COST = _m("aivitals_fixed_cost_usd_per_month")
ACTIVE_USERS = _m("aivitals_active_users")
ELIGIBLE_USERS = _m("aivitals_eligible_users")
TIME_TO_VALUE = _m("aivitals_time_to_value_seconds")
OVERRIDES = _m("aivitals_overrides_total")
SURVEYS = _m("aivitals_survey_responses_total")
INCIDENTS = _m("aivitals_incidents_total")
TIME_TO_DETECT = _m("aivitals_incident_time_to_detect_seconds")
TIME_TO_RESOLVE = _m("aivitals_incident_time_to_resolve_seconds")
INCIDENTS_OPEN = _m("aivitals_incidents_open")
LAST_TRAINED = _m("aivitals_model_last_trained_timestamp_seconds")
GROUND_TRUTH_LAST = _m("aivitals_ground_truth_last_timestamp_seconds")
TRAINING_RUNS = _m("aivitals_training_runs_total")
EVENTS = _m("aivitals_events_total")
EVICTIONS = _m("aivitals_store_evictions_total")
PROBE_ATTEMPTS = _m("aivitals_probe_attempts")
PROBE_SUCCESSES = _m("aivitals_probe_successes")
QUALITY = _m("aivitals_quality_score")
EVALUATIONS = _m("aivitals_evaluations_total")
PII = _m("aivitals_pii_detections_total")
EVALUATOR_RESPONSES = _m("aivitals_evaluator_responses_total")

#: Series kept in the ledger (and so in the store), in exposition order.
RECORDED: tuple[Metric, ...] = (
    EVENTS, EVICTIONS, LABELS, CONFUSION, CALIBRATION_PREDICTIONS, CALIBRATION_CORRECT, CALIBRATION_CONFIDENCE,
    GROUP_PREDICTIONS, GROUP_CONFUSION, CLASS_PREDICTIONS, LABEL_DELAY, KPI_EXPOSURES, KPI_CONVERSIONS, OUTCOMES,
    OUTCOME_VALUE, WORK_UNIT_DURATION,
    HUMAN_COST, TIME_TO_VALUE, OVERRIDES, SURVEYS, INCIDENTS, TIME_TO_DETECT, TIME_TO_RESOLVE, INCIDENTS_OPEN,
    LAST_TRAINED, GROUND_TRUTH_LAST, TRAINING_RUNS, QUALITY, EVALUATIONS, PII, EVALUATOR_RESPONSES,
)
RECORDED_BY_NAME: dict[str, Metric] = {m.name: m for m in RECORDED}
