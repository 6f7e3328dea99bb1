"""Recording rule groups: every derived vital computed once, reused by alerts and panels."""

from __future__ import annotations

import re
from typing import Any

from ...catalogue import DRIFT, SLO_WINDOWS, SLOS
from ...catalogue.promql import Recording, catalogue_recordings, longest_range, render

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


#: Rules that look back further than this are evaluated every LONG_INTERVAL: a 30-day
#: increase read every minute costs 30 times more and moves by a thousandth.
SHORT_RANGE_SECONDS = 3600
LONG_INTERVAL = "5m"


def _group(name: str, rules: list[Recording], interval: str | None = None) -> dict[str, Any]:
    group: dict[str, Any] = {"name": name, "rules": [{"record": r.record, "expr": r.expr} for r in rules]}
    if interval:
        group["interval"] = interval
    return group


def recording_groups() -> list[dict[str, Any]]:
    """The rule groups of alerts/aivitals-recording.yaml: SLIs apart, long lookbacks evaluated less often."""
    recordings = catalogue_recordings()
    by_name = {r.record: r for r in recordings}
    sli = slo_records()
    long = {r.record for r in recordings if longest_range(r, by_name) > SHORT_RANGE_SECONDS}
    ordered = _ordered(recordings)
    groups = [
        _group("aivitals-recording", [r for r in ordered if r.record not in sli | long]),
        _group("aivitals-recording-long", [r for r in ordered if r.record in long - sli], LONG_INTERVAL),
        _group("aivitals-slo-sli", [r for r in ordered if r.record in sli - long]),
        _group("aivitals-slo-sli-long", [r for r in ordered if r.record in sli & long], LONG_INTERVAL),
    ]
    if DRIFT:
        groups.append({"name": "aivitals-drift", "rules": [{"record": r.record, "expr": r.expr} for r in DRIFT]})
    return groups
