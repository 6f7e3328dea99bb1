"""Naming conventions in one place: alert names, runbook anchors, groups."""

from __future__ import annotations

import re

from ...catalogue import Area, Comparison, Threshold, Vital

_SYMPTOM = {Comparison.ABOVE: "High", Comparison.BELOW: "Low", Comparison.EQUAL: "Zero"}
_WORD = {Comparison.ABOVE: "above", Comparison.BELOW: "below", Comparison.EQUAL: "at"}


def camel(text: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[_\-\s]+", text) if part)


def area_name(area: Area) -> str:
    return camel(area.value)


def alert_name(vital: Vital, threshold: Threshold) -> str:
    """``Aivitals<Area><Symptom>``, e.g. AivitalsEngineeringLatencyP95High."""
    area, symptom = area_name(vital.area), camel(vital.id)
    return f"Aivitals{area}{symptom.removeprefix(area)}{_SYMPTOM[threshold.comparison]}"


def crossing(comparison: Comparison) -> str:
    """'above', 'below' or 'at': how the value stands to the threshold when it fires."""
    return _WORD[comparison]


def anchor(alert: str) -> str:
    """The heading id GitHub gives ``## <alert>``: lower case."""
    return alert.lower()
