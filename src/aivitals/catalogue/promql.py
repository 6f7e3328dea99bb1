"""Turn catalogue queries into PromQL: tokens, windows, and the labels a recorded series keeps.

One place knows how ``SEL``, ``WINDOW`` and ``WINDOW_SECONDS`` are replaced,
so rules, alerts and dashboards agree on every query.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from . import DERIVED, DRIFT, VITALS
from .schema import Derived, Vital

_DURATION = re.compile(r"^(\d+)([smhdwy])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
_BY = re.compile(r"\bby \(([^)]*)\)")
_RANGE = re.compile(r"\[(\d+[smhd])(:\d+[smhd])?\]")
_RECORDED = re.compile(r"\b([a-z_]+:aivitals_[a-z0-9_]+:[a-zA-Z0-9_]+)")

#: The labels the dashboards filter on, in the order the SEL filter lists them.
FILTER_LABELS = ("namespace", "service", "model")


def seconds(duration: str) -> int:
    """``5m`` -> 300: Prometheus durations of one unit, as the catalogue writes them."""
    match = _DURATION.match(duration)
    if not match:
        raise ValueError(f"{duration!r} is not a duration like 5m, 1h or 30d")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def render(query: str, window: str | None = None, sel: str = "") -> str:
    """Replace the catalogue tokens; ``sel`` is the text of label matchers (may be empty)."""
    if "WINDOW" in query:
        if window is None:
            raise ValueError(f"query needs a window: {query}")
        query = query.replace("WINDOW_SECONDS", str(seconds(window))).replace("WINDOW", window)
    if sel:
        return query.replace("{SEL}", "{" + sel + "}").replace("{SEL, ", "{" + sel + ", ")
    return query.replace("{SEL}", "").replace("{SEL, ", "{")


@dataclass(frozen=True)
class Recording:
    """One recording rule: the series name, its PromQL, and what it came from."""

    record: str
    expr: str
    source: Vital | Derived
    window: str | None


def recordings_of(item: Vital | Derived) -> list[Recording]:
    """The recording rules of one catalogue entry, one per window."""
    if not item.record:
        return []
    windows: Iterable[str | None] = item.windows or (None,)
    return [Recording(render(item.record, w), render(item.query, w), item, w) for w in windows]


def catalogue_recordings() -> list[Recording]:
    """Every recording rule the catalogue asks for, in catalogue order."""
    out: list[Recording] = []
    items: list[Vital | Derived] = [*DERIVED, *VITALS]
    for item in items:
        out.extend(recordings_of(item))
    return out


def series_labels(expr: str) -> tuple[str, ...]:
    """The labels a query's result keeps: its ``by`` clause, or the recorded series it reads."""
    clauses = _BY.findall(expr)
    if clauses:
        return tuple(label.strip() for label in clauses[0].split(",") if label.strip() != "le")
    for name in _RECORDED.findall(expr):
        labels = recorded_labels().get(name)
        if labels is not None:
            return labels
    return ()


def recorded_labels() -> dict[str, tuple[str, ...]]:
    """Record name -> the labels its series keep (namespace included)."""
    known = {rec.record: rec.keeps for rec in DRIFT if rec.keeps}
    for rec in catalogue_recordings():
        if rec.record not in known:
            known[rec.record] = ()
    # resolve in catalogue order; records that read other records come after them
    for rec in catalogue_recordings():
        clauses = _BY.findall(rec.expr)
        if clauses:
            known[rec.record] = tuple(x.strip() for x in clauses[0].split(",") if x.strip() != "le")
        else:
            for name in _RECORDED.findall(rec.expr):
                if name != rec.record and known.get(name):
                    known[rec.record] = known[name]
                    break
    return known


def longest_range(rec: Recording, by_name: dict[str, Recording], subqueries: bool = True) -> int:
    """Seconds the rule (or a record it reads) looks back over: what decides its cost and its test."""
    longest = max((seconds(r) for r, sub in _RANGE.findall(rec.expr) if subqueries or not sub), default=0)
    for name in _RECORDED.findall(rec.expr):
        if name in by_name and name != rec.record:
            longest = max(longest, longest_range(by_name[name], by_name, subqueries))
    return longest


def subject(vital: Vital) -> str:
    """What alerts and tiles read for a vital: its record at the first window, or its own query."""
    if vital.record:
        return render(vital.record, vital.windows[0] if vital.windows else None)
    return render(vital.query)


def sel_for(labels: Iterable[str], values: dict[str, str]) -> str:
    """Label matchers for the filter labels a series carries, e.g. ``service=~"$service"``."""
    have = set(labels)
    return ", ".join(f'{name}=~"{values[name]}"' for name in FILTER_LABELS if name in have and name in values)
