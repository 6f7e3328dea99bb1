"""Empty prometheus_client metric families built from the catalogue, filled at scrape time.

The one place a catalogue metric becomes a family: collectors, the SDK's own
collector and the evaluators' exporter never spell a family's help, type,
unit or label names, so the exposition and the generated docs agree. At
scrape time the collectors yield ``RenderedFamily`` objects made from
``spec(name)``, whose header is rendered once, so aivitals' writer formats
only the values.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    InfoMetricFamily,
)

from .catalogue import METRICS_BY_NAME, Metric, MetricType
from .rendered import FamilySpec


def family(metric: str | Metric, extra_labels: Sequence[str] = (), *, unit: bool = False) -> Any:
    """A fresh, empty family for a catalogue metric (by name: KeyError if it is not there).

    Typed ``Any``: which ``Family`` it is follows the catalogue, which a type checker cannot see.

    ``extra_labels`` follow the catalogue's labels; ``unit`` declares the
    metric's unit to prometheus_client (the OpenMetrics ``# UNIT`` line). An
    info metric carries its labels on its one sample, so its family declares none.
    """
    spec = METRICS_BY_NAME[metric] if isinstance(metric, str) else metric
    labels = [*spec.labels, *extra_labels]
    declared = spec.unit.value if unit else ""
    if spec.type is MetricType.COUNTER:
        return CounterMetricFamily(spec.name, spec.help, labels=labels, unit=declared)
    if spec.type is MetricType.HISTOGRAM:
        return HistogramMetricFamily(spec.name, spec.help, labels=labels, unit=declared)
    if spec.type is MetricType.INFO:
        return InfoMetricFamily(spec.name, spec.help, labels=[])
    return GaugeMetricFamily(spec.name, spec.help, labels=labels, unit=declared)


def labels_of(name: str) -> tuple[str, ...]:
    """The label names the catalogue declares for ``name``, in order."""
    return METRICS_BY_NAME[name].labels


_SPECS: dict[str, FamilySpec] = {}


def spec(name: str) -> FamilySpec:
    """The catalogue metric ``name`` as a ``RenderedFamily`` spec (with its unit): header rendered once, cached."""
    found = _SPECS.get(name)
    if found is None:
        found = _SPECS[name] = FamilySpec(family(name, unit=True), labels_of(name))
    return found
