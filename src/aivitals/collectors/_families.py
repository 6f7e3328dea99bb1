"""Empty metric families built from the catalogue, filled at scrape time.

Collectors never spell a family's help, type, unit or label names: they come
from ``aivitals.catalogue`` so the exposition and the generated docs agree.
At scrape time they yield ``RenderedFamily`` objects made from ``spec(name)``,
whose header is rendered once, so aivitals' writer formats only the values.
"""

from __future__ import annotations

from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily

from .._rendered import FamilySpec
from ..catalogue import METRICS_BY_NAME, MetricType

Family = CounterMetricFamily | GaugeMetricFamily


def family(name: str) -> Family:
    """A fresh, empty family for the catalogue metric ``name`` (KeyError if it is not there)."""
    metric = METRICS_BY_NAME[name]
    if metric.type is MetricType.COUNTER:
        return CounterMetricFamily(metric.name, metric.help, labels=metric.labels, unit=metric.unit.value)
    if metric.type is MetricType.GAUGE:
        return GaugeMetricFamily(metric.name, metric.help, labels=metric.labels, unit=metric.unit.value)
    raise TypeError(f"{name}: a collector only reports counters and gauges, not {metric.type.value}")


def labels_of(name: str) -> tuple[str, ...]:
    """The label names the catalogue declares for ``name``, in order."""
    return METRICS_BY_NAME[name].labels


_SPECS: dict[str, FamilySpec] = {}


def spec(name: str) -> FamilySpec:
    """The catalogue metric ``name`` as a ``RenderedFamily`` spec: its header rendered once, then cached."""
    found = _SPECS.get(name)
    if found is None:
        found = _SPECS[name] = FamilySpec(family(name), labels_of(name))
    return found
