"""The thresholds file: per-service and per-model thresholds, checked against the catalogue.

Alerts read thresholds from ``aivitals_threshold`` series at evaluation time,
so a change here needs no new rules: the sidecar mounts ``ThresholdCollector``
and Prometheus scrapes the values. The file looks like::

    thresholds:
      latency_p95_seconds:          # a catalogue config_key
        warning: 2.0                # applies to every service and model
        per:
          - {service: chat, model: gpt-4o, warning: 1.5, critical: 4}
          - {model: gpt-4o-mini, critical: 3}
    capacity:                       # peak throughput is judged against it
      - {service: chat, model: gpt-4o, requests_per_second: 50}

Every mistake is reported at once, each naming the file, the key and what is allowed.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from .catalogue import LABELS, METRICS_BY_NAME, VITALS, Threshold

_LEVELS = ("warning", "critical")
_LABEL_VALUE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,127}$")
_TOP = ("thresholds", "capacity")
_THRESHOLD_KEYS = (*_LEVELS, "per")
_PER_KEYS = ("service", "model", *_LEVELS)
_CAPACITY_KEYS = ("service", "model", "requests_per_second")

THRESHOLDS: dict[str, Threshold] = {t.config_key: t for v in VITALS for t in v.thresholds}


def _scopes() -> dict[str, set[str]]:
    """Config key -> which of service and model its vital's series carry (a per-entry can only name those)."""
    from .catalogue.promql import recorded_labels, series_labels, subject

    out: dict[str, set[str]] = {}
    for vital in VITALS:
        for t in vital.thresholds:
            value = t.subject or subject(vital)
            labels = recorded_labels().get(value) or series_labels(value)
            out[t.config_key] = {"service", "model"} & set(labels)
    return out


SCOPES = _scopes()


class ConfigError(ValueError):
    """The thresholds file does not fit the catalogue; the message lists every problem."""


@dataclass(frozen=True)
class ThresholdValue:
    """One configured threshold; empty service or model means 'every'."""

    key: str
    level: str
    value: float
    service: str = ""
    model: str = ""


@dataclass(frozen=True)
class Capacity:
    service: str
    model: str
    requests_per_second: float


@dataclass(frozen=True)
class Config:
    source: str
    thresholds: tuple[ThresholdValue, ...] = ()
    capacity: tuple[Capacity, ...] = ()


def _allowed(got: str, allowed: Iterable[str]) -> str:
    allowed = sorted(allowed)
    close = difflib.get_close_matches(got, allowed, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"{hint}; allowed: {', '.join(allowed)}"


class _Checker:
    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[str] = []

    def error(self, where: str, message: str) -> None:
        self.problems.append(f"{self.source}: {where}: {message}")

    def mapping(self, where: str, value: Any, allowed: tuple[str, ...]) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.error(where, f"expected a mapping with keys {', '.join(allowed)}, got {type(value).__name__}")
            return {}
        for key in value:
            if key not in allowed:
                self.error(f"{where}.{key}", f"unknown key{_allowed(str(key), allowed)}")
        return {k: v for k, v in value.items() if k in allowed}

    def number(self, where: str, value: Any, t: Threshold | None = None, minimum: float | None = None) -> float | None:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            self.error(where, f"expected a number, got {value!r}")
            return None
        low = t.minimum if t is not None else minimum
        high = t.maximum if t is not None else None
        if low is not None and value < low:
            self.error(where, f"{value} is below the smallest allowed value {low:g}")
        elif high is not None and value > high:
            self.error(where, f"{value} is above the largest allowed value {high:g}")
        return float(value)

    def label(self, where: str, name: str, value: Any) -> str:
        if not isinstance(value, str) or not _LABEL_VALUE.match(value):
            self.error(where, f"{name} must be a name of letters, digits and ._:/@+- (at most 128), got {value!r}")
            return ""
        return value


def _levels(check: _Checker, where: str, key: str, body: dict[str, Any], service: str = "",
            model: str = "") -> list[ThresholdValue]:
    t = THRESHOLDS[key]
    defaults = {"warning": t.warning, "critical": t.critical}
    out: list[ThresholdValue] = []
    values: dict[str, float] = {}
    for level in _LEVELS:
        if level not in body:
            continue
        if defaults[level] is None:
            have = [name for name, d in defaults.items() if d is not None]
            check.error(f"{where}.{level}", f"{key} has no {level} level; allowed: {', '.join(have)}")
            continue
        value = check.number(f"{where}.{level}", body[level], t)
        if value is not None:
            values[level] = value
            out.append(ThresholdValue(key, level, value, service, model))
    if len(values) == 2 and not t.comparison.at_least_as_bad(values["critical"], values["warning"]):
        check.error(where, f"critical {values['critical']:g} is not beyond warning {values['warning']:g} "
                           f"(the alert fires {t.comparison.name.lower()} the threshold)")
    return out


def _capacity(check: _Checker, raw: Any) -> list[Capacity]:
    """The ``capacity`` list: requests per second per service and model, each above 0."""
    capacity: list[Capacity] = []
    if not isinstance(raw, list):
        check.error("capacity", "expected a list of {service, model, requests_per_second}")
        raw = []
    for i, entry in enumerate(raw):
        where = f"capacity[{i}]"
        item = check.mapping(where, entry, _CAPACITY_KEYS)
        if isinstance(entry, dict):
            for needed in _CAPACITY_KEYS:
                if needed not in item:
                    check.error(where, f"missing {needed}")
        rps = check.number(f"{where}.requests_per_second", item.get("requests_per_second", 0), minimum=0)
        if rps == 0 and "requests_per_second" in item:
            check.error(f"{where}.requests_per_second", "capacity must be above 0")
        if {"service", "model"} <= set(item) and rps:
            capacity.append(Capacity(check.label(where, "service", item["service"]),
                                     check.label(where, "model", item["model"]), rps))
    return capacity


def parse(data: Any, source: str = "<config>") -> Config:
    """Validate a loaded document against the catalogue; raise ConfigError listing every problem."""
    check = _Checker(source)
    if data is None:
        data = {}
    top = check.mapping("(top level)", data, _TOP)
    values: list[ThresholdValue] = []
    thresholds = check.mapping("thresholds", top.get("thresholds") or {}, tuple(THRESHOLDS))
    for key, raw in thresholds.items():
        body = check.mapping(f"thresholds.{key}", raw, _THRESHOLD_KEYS)
        values.extend(_levels(check, f"thresholds.{key}", key, body))
        per = body.get("per") or []
        if not isinstance(per, list):
            check.error(f"thresholds.{key}.per", "expected a list of {service, model, warning, critical}")
            per = []
        for i, entry in enumerate(per):
            where = f"thresholds.{key}.per[{i}]"
            item = check.mapping(where, entry, _PER_KEYS)
            service = check.label(where, "service", item["service"]) if "service" in item else ""
            model = check.label(where, "model", item["model"]) if "model" in item else ""
            if not item.get("service") and not item.get("model") and isinstance(entry, dict):
                check.error(where, "names neither service nor model; put global values beside 'per'")
            for name in ("service", "model"):
                if name in item and name not in SCOPES[key]:
                    allowed = ", ".join(sorted(SCOPES[key])) or "none: set it globally"
                    check.error(f"{where}.{name}", f"{key} is not measured per {name}, so this entry would "
                                                   f"never apply; allowed: {allowed}")
            if isinstance(entry, dict) and not any(level in item for level in _LEVELS):
                check.error(where, f"sets no level; allowed: {', '.join(_LEVELS)}")
            values.extend(_levels(check, where, key, item, service, model))
    capacity = _capacity(check, top.get("capacity") or [])
    seen: set[tuple[str, str, str, str]] = set()
    for v in values:
        ident = (v.key, v.level, v.service, v.model)
        if ident in seen:
            check.error(f"thresholds.{v.key}", f"{v.level} is set twice for service={v.service!r} model={v.model!r}")
        seen.add(ident)
    for name in ("service", "model"):
        distinct = {getattr(v, name) for v in values} | {getattr(c, name) for c in capacity}
        cap = LABELS[name].max_values
        if len(distinct - {""}) > cap:
            check.error(name, f"{len(distinct - {''})} distinct values, more than the {cap} the label allows")
    if check.problems:
        raise ConfigError("invalid thresholds config:\n  " + "\n  ".join(check.problems))
    return Config(source, tuple(values), tuple(capacity))


def load(path: str | Path) -> Config:
    """Read a YAML or JSON thresholds file and validate it."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    if path.suffix == ".json":
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ConfigError(f"{path}: not valid JSON: {exc}") from exc
    else:
        import yaml  # the codegen extra; JSON needs nothing

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    return parse(data, str(path))


class ThresholdCollector(Collector):
    """Exports the configured thresholds and capacities, for alerts to read at evaluation time."""

    def __init__(self, config: Config) -> None:
        self._config = config

    def collect(self) -> Iterator[GaugeMetricFamily]:
        threshold = METRICS_BY_NAME["aivitals_threshold"]
        family = GaugeMetricFamily(threshold.name, threshold.help, labels=list(threshold.labels))
        for v in self._config.thresholds:
            family.add_metric([v.key, v.level, v.service, v.model], v.value)
        yield family
        capacity = METRICS_BY_NAME["aivitals_capacity_requests_per_second"]
        cap = GaugeMetricFamily(capacity.name, capacity.help, labels=list(capacity.labels))
        for c in self._config.capacity:
            cap.add_metric([c.service, c.model], c.requests_per_second)
        yield cap
