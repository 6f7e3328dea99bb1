"""Prometheus recording and alerting rules generated from the catalogue."""

from __future__ import annotations

from .alerts import Alert, alert_groups, all_alerts
from .recording import recording_groups

__all__ = ["Alert", "alert_groups", "all_alerts", "recording_groups"]
