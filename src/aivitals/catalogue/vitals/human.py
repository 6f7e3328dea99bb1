"""Human and process: incidents and retraining."""

from __future__ import annotations

from ..schema import Area, Comparison, Dashboard, Threshold, Tile, Unit, Vital
from .queries import M, mean

HUMAN: tuple[Vital, ...] = (
    Vital(
        id="time_to_detect", number=28, title="Time to detect", area=Area.HUMAN,
        description="Mean time from an incident occurring to its detection.",
        unit=Unit.SECONDS, metrics=("aivitals_incident_time_to_detect_seconds",),
        query=mean("aivitals_incident_time_to_detect_seconds", "namespace, severity"),
        record="severity:aivitals_incident_time_to_detect_seconds:mean_increaseWINDOW", windows=("7d", "30d"),
        dashboard=Dashboard.OPERATIONS, row="Incidents", order=3, grafana_unit="s",
        tile=Tile(position=6, title="Time to detect", question="When it breaks, how fast do we know?"),
        thresholds=(
            Threshold(comparison=Comparison.ABOVE, warning=3600.0, critical=14400.0,
                      config_key="time_to_detect_seconds", for_="0m",
                      reason="Below 1 hour for high-severity incidents is the bar."),
        ),
        first_step="List the incidents of the window and how each was detected; add the alert that would have "
                   "caught the slowest.",
    ),
    Vital(
        id="time_to_resolve", number=29, title="Time to resolve", area=Area.HUMAN,
        description="Mean time from detection to resolution.",
        unit=Unit.SECONDS, metrics=("aivitals_incident_time_to_resolve_seconds",),
        query=mean("aivitals_incident_time_to_resolve_seconds", "namespace, severity"),
        record="severity:aivitals_incident_time_to_resolve_seconds:mean_increaseWINDOW", windows=("7d", "30d"),
        dashboard=Dashboard.OPERATIONS, row="Incidents", order=4, grafana_unit="s",
        thresholds=(
            Threshold(comparison=Comparison.ABOVE, warning=14400.0, critical=86400.0,
                      config_key="time_to_resolve_seconds", for_="0m",
                      reason="Roll back first, debug after: most failures should resolve within hours."),
        ),
        first_step="Review the slowest incident: was rollback possible and practised?",
    ),
    Vital(
        id="retraining_gap", number=30, title="Retraining freshness gap", area=Area.HUMAN,
        description="How much newer the newest ground truth is than the last training run.",
        unit=Unit.SECONDS,
        metrics=("aivitals_model_last_trained_timestamp_seconds", "aivitals_ground_truth_last_timestamp_seconds"),
        query=f"max by ({M}) (aivitals_ground_truth_last_timestamp_seconds{{SEL}})"
              f" - max by ({M}) (aivitals_model_last_trained_timestamp_seconds{{SEL}})",
        record="model:aivitals_retraining_gap_seconds:max",
        dashboard=Dashboard.OPERATIONS, row="Retraining freshness", order=1, grafana_unit="s",
        thresholds=(
            Threshold(comparison=Comparison.ABOVE, warning=2592000.0, critical=7776000.0,
                      config_key="retraining_gap_seconds", for_="1h",
                      reason="Unused ground truth older than a month is a drift incident waiting to happen."),
        ),
        first_step="Schedule retraining on the new ground truth, or record why the model stays.",
    ),
)
