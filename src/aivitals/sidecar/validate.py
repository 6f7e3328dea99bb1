"""From request bytes to validated events, or a 4xx that names every wrong field.

A batch is all-or-nothing: one bad event rejects the whole request, before
anything is written. Error messages never echo a submitted value, so a user key
or any other input cannot leak into a response.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Annotated, Any

from pydantic import Field, TypeAdapter, ValidationError

from .errors import RequestError
from .events import (
    KINDS,
    UNKNOWN_KIND,
    Activity,
    AlertmanagerNotification,
    AnyEvent,
    Conversion,
    Event,
    Exposure,
    Incident,
    Outcome,
    Prediction,
    WorkUnit,
    epoch,
)
from .settings import Settings

#: 2000-01-01T00:00:00Z: anything earlier is a unit mistake (milliseconds, or 0), not a real event.
EARLIEST = 946684800.0
_MAX_ERRORS = 20
JSON_TYPES = ("application/json",)
NDJSON_TYPES = ("application/x-ndjson", "application/ndjson", "application/jsonl")
#: A key that contains something shaped like an email address.
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
#: Pieces of pydantic's error locations that name a union member, not a field.
_TYPE_LOCS = frozenset({"datetime", "float", "int", "bool", "str", "constrained-str", "[key]"})

__all__ = ["Parser", "RequestError", "check_alerts", "check_time", "media_type", "parse_alertmanager"]


def _clean_loc(loc: tuple[int | str, ...], prefix: list[str | int], tagged: bool) -> list[str | int]:
    out: list[str | int] = list(prefix)
    for i, part in enumerate(loc):
        if isinstance(part, str):
            if part in _TYPE_LOCS or "[" in part:
                continue
            if tagged and part in KINDS and i > 0 and isinstance(loc[i - 1], int):
                continue
            if tagged and part in KINDS and i == 0 and not prefix[1:]:
                continue
        out.append(part)
    return out


def _path(loc: Sequence[str | int]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def errors_from(exc: ValidationError, prefix: list[str | int], tagged: bool) -> list[tuple[list[str | int], str]]:
    """Field paths and messages, union alternatives merged, no input values."""
    merged: dict[tuple[str | int, ...], list[str]] = {}
    for err in exc.errors(include_url=False, include_input=False, include_context=False):
        loc = tuple(_clean_loc(err["loc"], prefix, tagged))
        msgs = merged.setdefault(loc, [])
        if err["msg"] not in msgs:
            msgs.append(err["msg"])
    return [(list(loc), "; or ".join(msgs)) for loc, msgs in list(merged.items())[:_MAX_ERRORS]]


def _raise(status: int, errors: list[tuple[list[str | int], str]], kind: str, count: int) -> None:
    first = f"{_path(errors[0][0])}: {errors[0][1]}" if errors else "invalid request"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    raise RequestError(status, first + more, errors, kind, count)


def media_type(content_type: str | None) -> str:
    return (content_type or "application/json").split(";", 1)[0].strip().lower()


class Parser:
    """Parses and validates request bodies for one kind (or any kind, on /v1/events)."""

    def __init__(self, settings: Settings, kind: str | None) -> None:
        self.settings = settings
        self.kind = kind
        model: Any = KINDS[kind][0] if kind else AnyEvent
        self._one: TypeAdapter[Any] = TypeAdapter(model)
        self._many: TypeAdapter[Any] = TypeAdapter(
            Annotated[list[model], Field(max_length=settings.max_batch_events)])
        self._checks = _semantic_checks(settings)

    def parse(self, body: bytes, content_type: str | None, now: float) -> list[Event]:
        """Validated events, or RequestError."""
        kind = self.kind or UNKNOWN_KIND
        mtype = media_type(content_type)
        if mtype in NDJSON_TYPES:
            events = self._parse_lines(body, kind)
        elif mtype in JSON_TYPES or mtype.endswith("+json"):
            events = self._parse_json(body, kind)
        else:
            raise RequestError(415, f"Content-Type {mtype!r} is not accepted; send application/json (one event "
                                    "or an array) or application/x-ndjson (one event per line)", kind=kind)
        problems: list[tuple[list[str | int], str]] = []
        checks, latest = self._checks, now + self.settings.max_future_skew_seconds
        for index, event in enumerate(events):
            check = checks.get(event.kind)
            found = check(event, now) if check is not None else None
            t = event.time if event.time is None else epoch(event.time, now)
            if found or event.kind == "incident" or (t is not None and not EARLIEST <= t <= latest):
                problems.extend((["body", index, f], m) for f, m in found or ())
                problems.extend((["body", index, f], m) for f, m in _check_times(event, now, self.settings))
                if len(problems) >= _MAX_ERRORS:
                    break
        if problems:
            _raise(422, problems, self.kind or _kind_of(events, problems), len(events))
        return events

    def _parse_json(self, body: bytes, kind: str) -> list[Event]:
        start = body.lstrip()[:1]
        tagged = self.kind is None
        try:
            if start == b"[":
                return list(self._many.validate_json(body))
            if start == b"{":
                return [self._one.validate_json(body)]
        except ValidationError as exc:
            self._fail(exc, ["body"], tagged, kind, _batch_size(body) if start == b"[" else 1)
        if not start:
            raise RequestError(400, "body: empty; send one event (a JSON object) or an array of events", kind=kind)
        raise RequestError(400, "body: not a JSON object or array of events", kind=kind)

    def _parse_lines(self, body: bytes, kind: str) -> list[Event]:
        events: list[Event] = []
        lines = [line for line in body.split(b"\n") if line.strip()]
        if len(lines) > self.settings.max_batch_events:
            raise RequestError(413, f"body: {len(lines)} events, at most {self.settings.max_batch_events} a request",
                               kind=kind, count=len(lines))
        for index, line in enumerate(lines):
            try:
                events.append(self._one.validate_json(line))
            except ValidationError as exc:
                self._fail(exc, ["body", index], self.kind is None, kind, len(lines))
        return events

    def _fail(self, exc: ValidationError, prefix: list[str | int], tagged: bool, kind: str, count: int) -> None:
        errors = errors_from(exc, prefix, tagged)
        if tagged:  # on /v1/events the error's location names the kind of the failing event
            kind = next((part for e in exc.errors(include_url=False) for part in e["loc"][:2]
                         if isinstance(part, str) and part in KINDS), kind)
        malformed = any(e["type"] == "json_invalid" for e in exc.errors(include_url=False, include_input=False))
        _raise(400 if malformed else 422, errors, kind, count)


def _batch_size(body: bytes) -> int:
    """How many events a rejected array held, for the rejected count (1 when it is not even JSON)."""
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):  # the body reader bounds nesting; this stays safe without it
        return 1
    return len(parsed) if isinstance(parsed, list) else 1


def _kind_of(events: list[Event], problems: list[tuple[list[str | int], str]]) -> str:
    index = problems[0][0][1]
    return events[index].kind if isinstance(index, int) and index < len(events) else UNKNOWN_KIND


Check = Callable[[Any, float], list[tuple[str, str]]]


def _semantic_checks(settings: Settings) -> dict[str, Check]:
    """Per-kind checks of values the configuration declares."""
    kpis, cohorts, kinds = set(settings.kpis), set(settings.cohorts), set(settings.outcome_kinds)
    severities, fairness = set(settings.severities), {a: set(g) for a, g in settings.fairness.items()}

    def declared(name: str, value: str, allowed: set[str], key: str) -> list[tuple[str, str]]:
        if value in allowed:
            return []
        listed = ", ".join(sorted(allowed)) or "none"
        return [(name, f"{value!r} is not declared; declared {key}: {listed} (set {key} in the sidecar config)")]

    def kpi(event: Exposure | Conversion, now: float) -> list[tuple[str, str]]:
        return declared("kpi", event.kpi, kpis, "kpis") + declared("cohort", event.cohort, cohorts, "cohorts")

    def outcome(event: Outcome, now: float) -> list[tuple[str, str]]:
        return (declared("outcome_kind", event.outcome_kind, kinds, "outcome_kinds")
                + declared("cohort", event.cohort, cohorts, "cohorts"))

    def work_unit(event: WorkUnit, now: float) -> list[tuple[str, str]]:
        return declared("cohort", event.cohort, cohorts, "cohorts")

    def prediction(event: Prediction, now: float) -> list[tuple[str, str]]:
        if not event.groups:
            return []
        problems = []
        for attribute, group in event.groups.items():
            groups = fairness.get(attribute)
            if groups is None:
                problems += declared("groups", attribute, set(fairness), "fairness attributes")
            elif group not in groups:
                problems += declared(f"groups.{attribute}", group, groups, f"groups of {attribute}")
        return problems

    def activity(event: Activity, now: float) -> list[tuple[str, str]]:
        if _EMAIL.search(event.user):
            return [("user", "looks like an email address; send an opaque key instead (hash or pseudonymise it "
                             "in the application before sending)")]
        return []

    def incident(event: Incident, now: float) -> list[tuple[str, str]]:
        return declared("severity", event.severity, severities, "severities") + incident_order(event)

    return {"exposure": kpi, "conversion": kpi, "outcome": outcome, "work_unit": work_unit,
            "prediction": prediction, "activity": activity, "incident": incident}


def incident_order(event: Incident) -> list[tuple[str, str]]:
    """An incident is detected and resolved no earlier than it occurred, and resolved no earlier than detected."""
    occurred, detected, resolved = event.occurred_at, event.detected_at, event.resolved_at
    problems = []
    if occurred is not None and detected is not None and epoch(detected, 0) < epoch(occurred, 0):
        problems.append(("detected_at", "is before occurred_at; an incident is detected after it occurs"))
    if resolved is not None:
        for name, earlier in (("occurred_at", occurred), ("detected_at", detected)):
            if earlier is not None and epoch(resolved, 0) < epoch(earlier, 0):
                problems.append(("resolved_at", f"is before {name}; an incident is resolved after it "
                                                f"{name.split('_')[0]}"))
    return problems


_TIME_FIELDS = ("time",)
_INCIDENT_TIME_FIELDS = ("time", "occurred_at", "detected_at", "resolved_at")


def check_time(value: float, now: float, settings: Settings) -> str | None:
    """Why a timestamp cannot be right, or None."""
    if value > now + settings.max_future_skew_seconds:
        years = (value - now) / (365.25 * 86400)
        ahead = f"{years:.0f} years" if years >= 1 else f"{value - now:.0f} s"
        return (f"is {ahead} in the future; at most {settings.max_future_skew_seconds:g} s of clock skew is "
                "allowed")
    if value < EARLIEST:
        return "is before 2000-01-01; send Unix seconds (not milliseconds) or an RFC 3339 date-time"
    return None


def _check_times(event: Event, now: float, settings: Settings) -> list[tuple[str, str]]:
    problems = []
    for name in _INCIDENT_TIME_FIELDS if event.kind == "incident" else _TIME_FIELDS:
        raw = getattr(event, name)
        if raw is not None:
            why = check_time(epoch(raw, now), now, settings)
            if why:
                problems.append((name, why))
    return problems


_ALERTMANAGER = TypeAdapter(AlertmanagerNotification)


def check_alerts(notification: AlertmanagerNotification, now: float, settings: Settings) -> None:
    """RequestError (422) when an alert's times cannot be right: startsAt out of range, endsAt before it.

    An endsAt in the future is not an error: a firing alert's endsAt is when it expires
    unless renewed, and a resolved one is taken as resolved on receipt.
    """
    problems: list[tuple[list[str | int], str]] = []
    for i, alert in enumerate(notification.alerts):
        why = check_time(alert.startsAt, now, settings)
        if why:
            problems.append((["body", "alerts", i, "startsAt"], why))
        elif alert.endsAt is not None and alert.endsAt < EARLIEST:
            problems.append((["body", "alerts", i, "endsAt"], "is before 2000-01-01 and not Alertmanager's zero time "
                                                             "(0001-01-01T00:00:00Z)"))
        elif alert.status == "resolved" and alert.endsAt is not None and alert.endsAt < alert.startsAt:
            problems.append((["body", "alerts", i, "endsAt"], "is before startsAt; an alert resolves after it starts"))
    if problems:
        _raise(422, problems[:_MAX_ERRORS], "alert", len(notification.alerts))


def parse_alertmanager(body: bytes) -> AlertmanagerNotification:
    """Alertmanager's webhook payload (version 4); unknown keys are ignored."""
    try:
        return _ALERTMANAGER.validate_json(body)
    except ValidationError as exc:
        errors = errors_from(exc, ["body"], False)
        malformed = any(e["type"] == "json_invalid" for e in exc.errors(include_url=False, include_input=False))
        _raise(400 if malformed else 422, errors, "alert", 1)
        raise  # unreachable: _raise always raises
