"""Exposes a Tracker's aggregates to prometheus_client at scrape time."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    InfoMetricFamily,
    Metric,
)

from ._series import Hist
from ._version import __version__
from .catalogue import METRICS_BY_NAME, MetricType
from .catalogue.values import COST_KINDS, OUTCOMES, SDK_STAGES, TOKEN_TYPES

if TYPE_CHECKING:
    from .tracker import Tracker

_SDK_METRICS = (
    "aivitals_requests_total", "aivitals_request_errors_total", "aivitals_request_duration_seconds",
    "aivitals_time_to_first_chunk_seconds", "aivitals_time_per_output_chunk_seconds", "aivitals_tokens_total",
    "aivitals_request_tokens", "aivitals_cost_usd_total", "aivitals_unpriced_requests_total",
    "aivitals_gpu_seconds_total", "aivitals_cache_requests_total", "aivitals_overrides_total",
    "aivitals_quality_score", "aivitals_evaluations_total", "aivitals_pii_detections_total",
    "aivitals_business_outcomes_total", "aivitals_business_value_usd_total",
    "aivitals_sdk_errors_total", "aivitals_sdk_folded_label_values_total", "aivitals_build",
)


def family(name: str) -> Any:
    """An empty family for catalogue metric ``name``, typed and documented from the catalogue."""
    spec = METRICS_BY_NAME[name]
    labels = list(spec.labels)
    if spec.type is MetricType.COUNTER:
        return CounterMetricFamily(name, spec.help, labels=labels)
    if spec.type is MetricType.HISTOGRAM:
        return HistogramMetricFamily(name, spec.help, labels=labels)
    if spec.type is MetricType.INFO:
        return InfoMetricFamily(name, spec.help, labels=[])
    return GaugeMetricFamily(name, spec.help, labels=labels)


def _hist(fam: Any, labels: Iterable[str], hist: Hist) -> None:
    fam.add_metric(list(labels), hist.cumulative(), hist.sum)


class TrackerCollector:
    """A custom collector: folds the tracker's buffer, then yields its families."""

    def __init__(self, tracker: Tracker) -> None:
        self._tracker = tracker

    def describe(self) -> Iterator[Metric]:
        for name in _SDK_METRICS:
            yield family(name)

    def collect(self) -> Iterator[Metric]:
        tracker = self._tracker
        try:
            with tracker._fold_lock:
                tracker._fold()
                families = self._families()
        except Exception as exc:
            tracker.health.error("collect", exc)
            return
        yield from families

    def _families(self) -> list[Metric]:
        t = self._tracker
        f = {name: family(name) for name in _SDK_METRICS}
        for s in t.call_series():
            labels = list(s.labels)
            for index, count in enumerate(s.outcomes):
                if count:
                    f["aivitals_requests_total"].add_metric([*labels, OUTCOMES[index]], count)
            for error_type, count in s.errors.items():
                f["aivitals_request_errors_total"].add_metric([*labels, error_type], count)
            _hist(f["aivitals_request_duration_seconds"], labels, s.duration)
            if s.ttft.counts[-1] or any(s.ttft.counts):
                _hist(f["aivitals_time_to_first_chunk_seconds"], labels, s.ttft)
            if any(s.tpot.counts):
                _hist(f["aivitals_time_per_output_chunk_seconds"], labels, s.tpot)
            if any(s.tokens_in.counts):
                for index, count in enumerate(s.tokens):
                    f["aivitals_tokens_total"].add_metric([*labels, TOKEN_TYPES[index]], count)
                _hist(f["aivitals_request_tokens"], [*labels, "input"], s.tokens_in)
                _hist(f["aivitals_request_tokens"], [*labels, "output"], s.tokens_out)
            service, model, _operation, provider = s.labels
            if s.price is not None:
                for index, usd in enumerate(s.costs()):
                    if usd or COST_KINDS[index] in ("input", "output"):
                        f["aivitals_cost_usd_total"].add_metric([service, model, provider, COST_KINDS[index]], usd)
            if s.unpriced:
                f["aivitals_unpriced_requests_total"].add_metric([service, model, provider], s.unpriced)
            if s.gpu_seconds:
                f["aivitals_gpu_seconds_total"].add_metric([service, model], s.gpu_seconds)
        for key, count in t.cache.items():
            f["aivitals_cache_requests_total"].add_metric(list(key), count)
        for key3, count in t.overrides.items():
            f["aivitals_overrides_total"].add_metric(list(key3), count)
        for key3, hist in t.scores.items():
            _hist(f["aivitals_quality_score"], key3, hist)
        for key, count in t.evaluations.items():
            f["aivitals_evaluations_total"].add_metric(list(key), count)
        for key3, count in t.pii.items():
            f["aivitals_pii_detections_total"].add_metric(list(key3), count)
        for key2, (outcomes, value) in t.outcomes.items():
            f["aivitals_business_outcomes_total"].add_metric(list(key2), outcomes)
            f["aivitals_business_value_usd_total"].add_metric(list(key2), value)
        for stage in SDK_STAGES:  # zeros included, so rate() works from the first error
            f["aivitals_sdk_errors_total"].add_metric([stage], t.health.errors.get(stage, 0))
        for label, count in t.health.folded.items():
            f["aivitals_sdk_folded_label_values_total"].add_metric([label], count)
        f["aivitals_build"].add_metric([], {"version": __version__})
        return list(f.values())
