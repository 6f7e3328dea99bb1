"""The six executive tiles, computed from a registry the way the recording rules compute them.

Each refresh takes a snapshot of the registry; a tile's value is computed
from the increase between the newest snapshot and one a window earlier,
like PromQL's ``increase()``. Colours come from the catalogue's thresholds.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..catalogue import VITALS_BY_ID, Comparison, Vital
from ..stats.histogram import histogram_quantile

Key = tuple[str, frozenset[tuple[str, str]]]
Snapshot = dict[Key, float]


def snapshot(registry: Any) -> Snapshot:
    """Every sample in the registry, keyed by sample name and labels."""
    out: Snapshot = {}
    for family in registry.collect():
        for sample in family.samples:
            out[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return out


def total(snap: Snapshot, name: str, **match: str) -> float:
    """Sum of samples called ``name`` whose labels include ``match``."""
    items = match.items()
    return sum(v for (n, labels), v in snap.items() if n == name and items <= labels)


def has(snap: Snapshot, name: str) -> bool:
    return any(n == name for n, _ in snap)


def quantile_increase(now: Snapshot, then: Snapshot, metric: str, q: float) -> float:
    """Quantile ``q`` of a histogram's observations between two snapshots, summed over all series."""
    name = metric + "_bucket"
    by_le: dict[float, float] = {}
    for (n, labels), value in now.items():
        if n == name:
            le = float(dict(labels)["le"])
            by_le[le] = by_le.get(le, 0.0) + value - then.get((n, labels), 0.0)
    return histogram_quantile(q, by_le.items())


@dataclass
class Tile:
    position: int
    title: str
    unit: str
    vital: Vital
    feeder: str
    compute: Callable[[Snapshot, Snapshot, float], float | None]
    #: (events seen, events needed) before the value says anything: until then no colour, "warming up".
    evidence: Callable[[Snapshot, Snapshot], tuple[float, float]] = lambda now, then: (1.0, 0.0)
    history: deque[float] = field(default_factory=lambda: deque(maxlen=30))
    value: float | None = None
    seen: tuple[float, float] = (1.0, 0.0)

    @property
    def warming(self) -> bool:
        return self.seen[0] < self.seen[1]

    def state(self) -> str:
        """ok, warning, critical, warming (too little data to judge) or none, from the catalogue threshold."""
        if self.value is None or math.isnan(self.value) or not self.vital.thresholds:
            return "none"
        if self.warming:
            return "warming"
        threshold = self.vital.thresholds[0]
        for level, bound in (("critical", threshold.critical), ("warning", threshold.warning)):
            if bound is None:
                continue
            crossed = {Comparison.ABOVE: self.value > bound, Comparison.BELOW: self.value < bound,
                       Comparison.EQUAL: self.value == bound}[threshold.comparison]
            if crossed:
                return level
        return "ok"

    def update(self, now: Snapshot, then: Snapshot, seconds: float) -> None:
        """Compute from two snapshots ``seconds`` (simulated) apart."""
        value = self.compute(now, then, seconds)
        self.value = value
        self.seen = self.evidence(now, then)
        if value is not None and not math.isnan(value):
            self.history.append(value)


def _delta(now: Snapshot, then: Snapshot, name: str, **match: str) -> float:
    return total(now, name, **match) - total(then, name, **match)


def _ratio(num: float, den: float) -> float:
    return num / den if den > 0 else math.nan


def _kpi_delta(now: Snapshot, then: Snapshot, seconds: float) -> float | None:
    if not has(now, "aivitals_kpi_exposures_total"):
        return None
    rates = [_ratio(_delta(now, then, "aivitals_kpi_conversions_total", cohort=c),
                    _delta(now, then, "aivitals_kpi_exposures_total", cohort=c)) for c in ("treatment", "control")]
    return rates[0] - rates[1]


SECONDS_PER_MONTH = 2629746  # the catalogue's query prorates fixed monthly costs the same way


def _cost_per_outcome(now: Snapshot, then: Snapshot, seconds: float) -> float | None:
    fixed = total(now, "aivitals_fixed_cost_usd_per_month") * seconds / SECONDS_PER_MONTH
    return _ratio(_delta(now, then, "aivitals_cost_usd_total") + fixed,
                  _delta(now, then, "aivitals_business_outcomes_total"))


def _hallucination(now: Snapshot, then: Snapshot, seconds: float) -> float | None:
    return _ratio(_delta(now, then, "aivitals_evaluations_total", evaluator="hallucination", verdict="fail"),
                  _delta(now, then, "aivitals_evaluations_total", evaluator="hallucination"))


def _adoption(now: Snapshot, then: Snapshot, seconds: float) -> float | None:
    if not has(now, "aivitals_active_users"):
        return None
    return _ratio(total(now, "aivitals_active_users", window="7d"), total(now, "aivitals_eligible_users"))


def _p95(now: Snapshot, then: Snapshot, seconds: float) -> float | None:
    return quantile_increase(now, then, "aivitals_request_duration_seconds", 0.95)


def _time_to_detect(now: Snapshot, then: Snapshot, seconds: float) -> float | None:
    if not has(now, "aivitals_incident_time_to_detect_seconds_count"):
        return None
    count = total(now, "aivitals_incident_time_to_detect_seconds_count")
    return _ratio(total(now, "aivitals_incident_time_to_detect_seconds_sum"), count)


def _needs(name: str, least: float, **match: str) -> Callable[[Snapshot, Snapshot], tuple[float, float]]:
    """Evidence as the window's increase of ``name``: a share of a handful of events says nothing yet."""
    return lambda now, then: (_delta(now, then, name, **match), least)


def _kpi_evidence(now: Snapshot, then: Snapshot) -> tuple[float, float]:
    exposed = min(_delta(now, then, "aivitals_kpi_exposures_total", cohort=c) for c in ("treatment", "control"))
    return exposed, 200.0


def _users_evidence(now: Snapshot, then: Snapshot) -> tuple[float, float]:
    return total(now, "aivitals_active_users", window="7d"), 50.0


def executive_tiles() -> list[Tile]:
    """The six tiles, in the catalogue's order, each with the evidence it needs before it is coloured."""
    spec = (
        ("kpi_delta", "%", "KPI events", _kpi_delta, _kpi_evidence),
        ("cost_per_outcome", "$", "", _cost_per_outcome, _needs("aivitals_business_outcomes_total", 20)),
        ("hallucination_rate", "%", "", _hallucination,
         _needs("aivitals_evaluations_total", 50, evaluator="hallucination")),
        ("adoption_rate", "%", "user activity events", _adoption, _users_evidence),
        ("latency_p95", "s", "", _p95, _needs("aivitals_request_duration_seconds_count", 50)),
        ("time_to_detect", "duration", "incident events", _time_to_detect,
         lambda now, then: (total(now, "aivitals_incident_time_to_detect_seconds_count"), 1.0)),
    )
    tiles = []
    for vital_id, unit, feeder, compute, evidence in spec:
        vital = VITALS_BY_ID[vital_id]
        assert vital.tile is not None
        tiles.append(Tile(vital.tile.position, vital.tile.title, unit, vital, feeder, compute, evidence))
    return tiles
