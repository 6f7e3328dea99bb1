"""Evaluation events (``POST /v1/evaluations``): responses of apps not in Python, evaluated by the sidecar.

The request thread turns each event into a ``Sample`` and appends it to the same
bounded ``evaluators.worker.Worker`` the SDK uses; the request is acknowledged
once every event of it is queued. A request that does not fit in the queue's
free room is refused whole (503 with Retry-After, the client retries), so an
acknowledged event is never dropped. The worker's thread runs the default
evaluators and records their verdicts here, in memory, as the SDK's
``aivitals_quality_score``, ``aivitals_evaluations_total`` and
``aivitals_pii_detections_total`` (with ``method``) and the worker's
``aivitals_evaluator_responses_total``, labelled by the event's service and
model folded through the ledger's label caps. Nothing of the text is stored or
logged; the counts live in this process only (a restart starts them at zero,
which ``rate()`` reads as a counter reset), and with several replicas each
exports its own, labelled ``replica``.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from aivitals.catalogue import LABELS, METRICS_BY_NAME, OTHER, Metric, MetricType
from aivitals.catalogue.values import EVALUATION_STATUSES
from aivitals.evaluators.base import Context, Sample
from aivitals.evaluators.suite import Suite
from aivitals.evaluators.worker import MAX_CHARS, EvaluateConfig, Worker
from aivitals.families import family

from .events import Evaluation

QUALITY = METRICS_BY_NAME["aivitals_quality_score"]
EVALUATIONS = METRICS_BY_NAME["aivitals_evaluations_total"]
PII = METRICS_BY_NAME["aivitals_pii_detections_total"]
RESPONSES = METRICS_BY_NAME["aivitals_evaluator_responses_total"]
#: Evaluation events waiting for the worker; a request that does not fit is answered 503.
QUEUE_SIZE = 500
#: Joins the folded service and model into the worker's one ``model`` key (neither name can hold it).
_SEP = "\x1f"

Labels = tuple[str, ...]


def _closed(label: str, value: str) -> str:
    """A value of a closed label, or ``other``: the evaluators' names and kinds pass the catalogue's list."""
    return value if value in LABELS[label].values else OTHER


class Series:
    """The verdicts' counters and score histograms (the worker's ``Recorder``); histograms hold per-bucket
    counts, +Inf, then the sum, as the ledger does."""

    def __init__(self) -> None:
        self._values: dict[tuple[str, Labels], list[float]] = {}
        self._lock = threading.Lock()

    def _series(self, metric: Metric, labels: Labels) -> list[float]:
        values = self._values.get((metric.name, labels))
        if values is None:
            size = len(metric.buckets) + 2 if metric.type is MetricType.HISTOGRAM else 1
            values = self._values[(metric.name, labels)] = [0.0] * size
        return values

    @staticmethod
    def _key(model: str | None) -> Labels:
        service, _, name = (model or "").partition(_SEP)
        return (service or OTHER, name or OTHER)

    def record_quality(self, evaluator: str, score: float, *, model: str | None = None,
                       method: str = "lexical") -> None:
        labels = (*self._key(model), _closed("evaluator", evaluator), _closed("method", method))
        score = min(max(float(score), 0.0), 1.0)
        with self._lock:
            series = self._series(QUALITY, labels)
            series[bisect_left(QUALITY.buckets, score)] += 1.0
            series[-1] += score

    def record_evaluation(self, evaluator: str, passed: bool, *, model: str | None = None,
                          method: str = "lexical") -> None:
        labels = (*self._key(model), _closed("evaluator", evaluator), _closed("method", method),
                  "pass" if passed else "fail")
        with self._lock:
            self._series(EVALUATIONS, labels)[0] += 1.0

    def record_pii(self, kind: str, *, model: str | None = None, method: str = "lexical") -> None:
        labels = (*self._key(model), _closed("pii_kind", kind), _closed("method", method))
        with self._lock:
            self._series(PII, labels)[0] += 1.0

    def snapshot(self) -> dict[tuple[str, Labels], list[float]]:
        with self._lock:
            return {key: list(values) for key, values in self._values.items()}


def sample(event: Evaluation, max_chars: int) -> Sample:
    """The evaluators' sample of one event; a response over ``max_chars`` keeps one character more, so the
    suite still cuts it and counts the cut while the queue holds no more than that."""
    return Sample(event.response[: max_chars + 1], event.question,
                  tuple(Context(c.id, c.text) for c in event.contexts), event.user_input,
                  None if event.relevant_context_ids is None else tuple(event.relevant_context_ids))


class Evaluations:
    """The sidecar's evaluation worker and the series its verdicts go to."""

    def __init__(self, fold: Callable[[str, str], str], queue_size: int = QUEUE_SIZE, max_chars: int = MAX_CHARS,
                 suite: Suite | None = None) -> None:
        self._fold = fold  # (label, value) -> the value under the label's cap, else ``other``
        self.series = Series()
        self.worker = Worker(self.series, EvaluateConfig(sample_rate=1.0, queue_size=queue_size,
                                                         max_chars=max_chars, suite=suite))
        self._lock = threading.Lock()
        self._reserved = 0

    @property
    def room(self) -> int:
        """How many more events the queue takes now (room reserved by a request in flight excluded)."""
        return max(self.worker.config.queue_size - self.worker.queued - self._reserved, 0)

    def reserve(self, count: int) -> bool:
        """Hold room for ``count`` events while the rest of their request commits; False when it lacks room."""
        with self._lock:  # requests of several threads never share out the last room between them
            if count > self.room:
                return False
            self._reserved += count
            return True

    def release(self, count: int) -> None:
        """Give back reserved room: the request failed, nothing of it is queued."""
        with self._lock:
            self._reserved -= count

    def submit(self, events: Sequence[Evaluation]) -> None:
        """Queue events whose room was reserved; the reservation is used up."""
        max_chars = self.worker.config.max_chars
        with self._lock:
            self._reserved -= len(events)
            for event in events:
                key = self._fold("service", event.service) + _SEP + self._fold("model", event.model)
                self.worker.submit(key, sample(event, max_chars))

    def close(self, timeout: float = 10.0) -> None:
        """Evaluate what was acknowledged (up to ``timeout``), then stop the thread."""
        self.worker.drain(timeout)
        self.worker.stop()


class EvaluationCollector(Collector):
    """The evaluation series at scrape time; with ``replica``, each series labelled with it."""

    def __init__(self, evaluations: Evaluations, replica: str | None = None) -> None:
        self._evaluations = evaluations
        self._replica = [replica] if replica is not None else []
        self._edges = [floatToGoString(b) for b in QUALITY.buckets] + ["+Inf"]

    def collect(self) -> Iterator[Any]:
        extra = ["replica"] if self._replica else []
        families = {m.name: family(m, extra) for m in (QUALITY, EVALUATIONS, PII, RESPONSES)}
        for (name, labels), values in sorted(self._evaluations.series.snapshot().items()):
            if name == QUALITY.name:
                cumulative, buckets = 0.0, []
                for edge, count in zip(self._edges, values[:-1], strict=True):
                    cumulative += count
                    buckets.append((edge, cumulative))
                families[name].add_metric([*labels, *self._replica], buckets, values[-1])
            else:
                families[name].add_metric([*labels, *self._replica], values[0])
        counts = list(self._evaluations.worker.counts.items())  # one copy: the worker thread adds keys
        totals = {(Series._key(key), status): count for (key, status), count in counts}
        for labels in sorted({labels for labels, _ in totals}):
            for status in EVALUATION_STATUSES:  # zeros included, so rate() sees the first error
                families[RESPONSES.name].add_metric([*labels, status, *self._replica],
                                                    float(totals.get((labels, status), 0)))
        yield from families.values()
