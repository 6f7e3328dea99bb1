"""Recording rule groups: every derived vital computed once, reused by alerts and panels."""

from __future__ import annotations

import re
from typing import Any

from ..catalogue import SLO_WINDOWS, SLOS
from .drift import drift_rules
from .promql import Recording, catalogue_recordings, render

_NAME = re.compile(r"[a-z_]+:aivitals_[a-z0-9_]+:[a-zA-Z0-9_]+")


def _ordered(recordings: list[Recording]) -> list[Recording]:
    """Rules that read other records come after them: a group evaluates in order."""
    by_name = {r.record: r for r in recordings}
    done: list[Recording] = []
    seen: set[str] = set()

    def visit(rec: Recording, path: tuple[str, ...]) -> None:
        if rec.record in seen:
            return
        if rec.record in path:
            raise ValueError(f"recording rules read each other in a cycle: {' -> '.join(path)}")
        for name in _NAME.findall(rec.expr):
            if name in by_name and name != rec.record:
                visit(by_name[name], (*path, rec.record))
        seen.add(rec.record)
        done.append(rec)

    for rec in recordings:
        visit(rec, ())
    return done


def slo_records() -> set[str]:
    """Names of the SLI ratios (recorded in their own group, at every burn window)."""
    return {render(slo.errors, w) for slo in SLOS for w in SLO_WINDOWS}


def recording_groups() -> list[dict[str, Any]]:
    """The rule groups of alerts/aivitals-recording.yaml."""
    recordings = catalogue_recordings()
    sli = slo_records()
    main = _ordered([r for r in recordings if r.record not in sli])
    slo = [r for r in recordings if r.record in sli]
    groups: list[dict[str, Any]] = [
        {"name": "aivitals-recording", "rules": [{"record": r.record, "expr": r.expr} for r in main]},
        {"name": "aivitals-slo-sli", "rules": [{"record": r.record, "expr": r.expr} for r in slo]},
    ]
    drift = drift_rules()
    if drift:
        groups.append({"name": "aivitals-drift", "rules": drift})
    return groups
