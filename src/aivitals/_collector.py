"""Exposes a Tracker's aggregates to prometheus_client at scrape time.

The families are ``RenderedFamily`` objects: every series' label text is
rendered once (cached on the ``CallSeries``, or here for the other
aggregates) and each scrape only pairs it with current values. They are
plain prometheus_client families to anything that reads their ``samples``.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client.core import (
    Metric,
)
from prometheus_client.utils import floatToGoString

from ._series import CallSeries, Hist
from ._version import __version__
from .catalogue import METRICS_BY_NAME
from .catalogue.values import COST_KINDS, OUTCOMES, SDK_STAGES, TOKEN_TYPES
from .families import family
from .rendered import FamilySpec, HistLines, Line, RenderedFamily

if TYPE_CHECKING:
    from .aggregates import Aggregates
    from .tracker import Tracker

_SDK_METRICS = (
    "aivitals_requests_total", "aivitals_request_errors_total", "aivitals_request_duration_seconds",
    "aivitals_time_to_first_chunk_seconds", "aivitals_time_per_output_chunk_seconds", "aivitals_tokens_total",
    "aivitals_request_tokens", "aivitals_cost_usd_total", "aivitals_unpriced_requests_total",
    "aivitals_unmetered_requests_total",
    "aivitals_gpu_seconds_total", "aivitals_cache_requests_total", "aivitals_overrides_total",
    "aivitals_quality_score", "aivitals_evaluations_total", "aivitals_pii_detections_total",
    "aivitals_business_outcomes_total", "aivitals_business_value_usd_total",
    "aivitals_sdk_errors_total", "aivitals_sdk_folded_label_values_total", "aivitals_build",
)
(_REQUESTS, _ERRORS, _DURATION, _TTFT, _TPOT, _TOKENS, _REQUEST_TOKENS, _COST, _UNPRICED, _UNMETERED, _GPU_SECONDS,
 _CACHE,
 _OVERRIDES, _SCORE, _EVALUATIONS, _PII, _OUTCOMES, _VALUE, _SDK_ERRORS, _FOLDED, _BUILD) = _SDK_METRICS
_PRICED_ALWAYS = frozenset({"input", "output"})  # cost kinds exposed even at zero


#: Name, type, help and rendered header of each SDK family, from the catalogue through prometheus_client.
SPECS: dict[str, FamilySpec] = {name: FamilySpec(family(name), METRICS_BY_NAME[name].labels)
                                for name in _SDK_METRICS}
_LES: dict[tuple[float, ...], tuple[str, ...]] = {}


def _les(bounds: tuple[float, ...]) -> tuple[str, ...]:
    """The ``le`` values of a histogram with these bounds, ``+Inf`` last."""
    found = _LES.get(bounds)
    if found is None:
        found = _LES[bounds] = (*(floatToGoString(b) for b in bounds), "+Inf")
    return found


def _hist_lines(name: str, values: tuple[str, ...], hist: Hist) -> HistLines:
    return SPECS[name].hist_lines(values, _les(hist.bounds))


class SeriesText:
    """The rendered lines of one CallSeries, made on its first scrape and kept on it (labels never change)."""

    __slots__ = ("duration", "errors", "labels", "requests", "tokens", "tokens_in", "tokens_out", "tpot", "ttft")

    def __init__(self, series: CallSeries) -> None:
        labels = self.labels = series.labels
        self.requests = tuple(SPECS[_REQUESTS].line((*labels, outcome)) for outcome in OUTCOMES)
        self.errors: dict[str, Line] = {}
        self.duration = _hist_lines(_DURATION, labels, series.duration)
        self.ttft: HistLines | None = None
        self.tpot: HistLines | None = None
        self.tokens: tuple[Line, ...] | None = None
        self.tokens_in: HistLines | None = None
        self.tokens_out: HistLines | None = None

    def error(self, error_type: str) -> Line:
        found = self.errors.get(error_type)
        if found is None:
            found = self.errors[error_type] = SPECS[_ERRORS].line((*self.labels, error_type))
        return found


class TrackerCollector:
    """A custom collector: folds the tracker's buffer, then yields its families."""

    def __init__(self, tracker: Tracker) -> None:
        self._tracker = tracker
        self._lines: dict[str, dict[Hashable, Any]] = {name: {} for name in _SDK_METRICS}
        #: Each call series' rendered lines, made on its first scrape (a series' labels never change).
        self._texts: dict[tuple[str, str, str, str], SeriesText] = {}
        self._build = Line(SPECS[_BUILD].sample_name(), {"version": __version__})

    def describe(self) -> Iterator[Metric]:
        for name in _SDK_METRICS:
            yield family(name)

    def collect(self) -> Iterator[Metric]:
        tracker = self._tracker
        try:
            with tracker.aggregates.snapshot() as aggregates:
                families = self._families(aggregates)
        except Exception as exc:
            tracker.health.error("collect", exc)
            return
        yield from families

    def _line(self, name: str, key: tuple[str, ...]) -> Line:
        """The cached line of metric ``name`` for label values ``key``."""
        cache = self._lines[name]
        found = cache.get(key)
        if found is None:
            found = cache[key] = SPECS[name].line(key)
        return found

    def _hist(self, name: str, key: tuple[str, ...], hist: Hist) -> HistLines:
        cache = self._lines[name]
        found = cache.get(key)
        if found is None:
            found = cache[key] = _hist_lines(name, key, hist)
        return found

    def _families(self, t: Aggregates) -> list[Metric]:
        f = {name: RenderedFamily(spec) for name, spec in SPECS.items()}
        self._calls(f, t)
        self._others(f, t)
        return list(f.values())

    def _calls(self, f: dict[str, RenderedFamily], t: Aggregates) -> None:
        """The families of the call series: requests, errors, latencies, tokens, and the cost totals."""
        texts = self._texts
        requests, errors = f[_REQUESTS].rows.append, f[_ERRORS].rows.append
        duration, ttft, tpot = f[_DURATION].hists.append, f[_TTFT].hists.append, f[_TPOT].hists.append
        tokens, request_tokens = f[_TOKENS].rows.append, f[_REQUEST_TOKENS].hists.append
        # Cost, unpriced calls and GPU time carry fewer labels than a call series (no operation, and
        # GPU time no provider): the series that share those labels are summed into one sample.
        costs: dict[tuple[str, ...], float] = {}
        unpriced: dict[tuple[str, ...], float] = {}
        unmetered: dict[tuple[str, ...], float] = {}
        gpu_seconds: dict[tuple[str, ...], float] = {}
        for s in t.call_series():
            text = texts.get(s.labels)
            if text is None:
                text = texts[s.labels] = SeriesText(s)
            for line, count in zip(text.requests, s.outcomes, strict=True):
                if count:
                    requests((line, count))
            for error_type, count in s.errors.items():
                errors((text.error(error_type), count))
            duration((text.duration, list(s.duration.counts), s.duration.sum))
            if any(s.ttft.counts):
                if text.ttft is None:
                    text.ttft = _hist_lines(_TTFT, text.labels, s.ttft)
                ttft((text.ttft, list(s.ttft.counts), s.ttft.sum))
            if any(s.tpot.counts):
                if text.tpot is None:
                    text.tpot = _hist_lines(_TPOT, text.labels, s.tpot)
                tpot((text.tpot, list(s.tpot.counts), s.tpot.sum))
            if any(s.tokens_in.counts):
                if text.tokens is None or text.tokens_in is None or text.tokens_out is None:
                    text.tokens = tuple(SPECS[_TOKENS].line((*text.labels, kind)) for kind in TOKEN_TYPES)
                    text.tokens_in = _hist_lines(_REQUEST_TOKENS, (*text.labels, "input"), s.tokens_in)
                    text.tokens_out = _hist_lines(_REQUEST_TOKENS, (*text.labels, "output"), s.tokens_out)
                for line, count in zip(text.tokens, s.tokens, strict=True):
                    tokens((line, count))
                request_tokens((text.tokens_in, list(s.tokens_in.counts), s.tokens_in.sum))
                request_tokens((text.tokens_out, list(s.tokens_out.counts), s.tokens_out.sum))
            service, model, _operation, provider = s.labels
            if s.price is not None:
                for kind, usd in zip(COST_KINDS, s.costs(), strict=True):
                    if usd or kind in _PRICED_ALWAYS:
                        cost_key = (service, model, provider, kind)
                        costs[cost_key] = costs.get(cost_key, 0.0) + usd
            if s.unpriced:
                unpriced_key = (service, model, provider)
                unpriced[unpriced_key] = unpriced.get(unpriced_key, 0) + s.unpriced
            for reason, count in s.unmetered.items():
                unmetered_key = (service, model, reason)
                unmetered[unmetered_key] = unmetered.get(unmetered_key, 0) + count
            if s.gpu_seconds:
                gpu_key = (service, model)
                gpu_seconds[gpu_key] = gpu_seconds.get(gpu_key, 0.0) + s.gpu_seconds
        line_of = self._line
        for name, totals in ((_COST, costs), (_UNPRICED, unpriced), (_UNMETERED, unmetered),
                             (_GPU_SECONDS, gpu_seconds)):
            f[name].rows.extend([(line_of(name, key), value) for key, value in totals.items()])

    def _others(self, f: dict[str, RenderedFamily], t: Aggregates) -> None:
        """The families of the other aggregates: cache, overrides, quality, outcomes, the SDK's health."""
        line_of = self._line
        f[_CACHE].rows.extend([(line_of(_CACHE, key), count) for key, count in t.cache.items()])
        f[_OVERRIDES].rows.extend([(line_of(_OVERRIDES, key), count) for key, count in t.overrides.items()])
        f[_SCORE].hists.extend([(self._hist(_SCORE, key, hist), list(hist.counts), hist.sum)
                                for key, hist in t.scores.items()])
        f[_EVALUATIONS].rows.extend([(line_of(_EVALUATIONS, key), count) for key, count in t.evaluations.items()])
        f[_PII].rows.extend([(line_of(_PII, key), count) for key, count in t.pii.items()])
        for key, (outcomes, value) in t.outcomes.items():
            f[_OUTCOMES].rows.append((line_of(_OUTCOMES, key), outcomes))
            f[_VALUE].rows.append((line_of(_VALUE, key), value))
        errors_by_stage = t.health.errors
        for stage in SDK_STAGES:  # zeros included, so rate() works from the first error
            f[_SDK_ERRORS].rows.append((line_of(_SDK_ERRORS, (stage,)), errors_by_stage.get(stage, 0)))
        for label, count in t.health.folded.items():
            f[_FOLDED].rows.append((line_of(_FOLDED, (label,)), count))
        f[_BUILD].rows.append((self._build, 1.0))
