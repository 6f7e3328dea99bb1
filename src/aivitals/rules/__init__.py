"""Prometheus recording and alerting rules generated from the catalogue."""

from __future__ import annotations

from .alerts import Alert, alert_groups, all_alerts
from .drift import PROVIDERS, drift_rules
from .recording import recording_groups

__all__ = ["PROVIDERS", "Alert", "alert_groups", "all_alerts", "drift_rules", "recording_groups"]
