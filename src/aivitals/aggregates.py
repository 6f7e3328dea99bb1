"""A tracker's aggregates: the hot path's buffer, the fold that empties it, and the totals it folds into.

One owner, one lock: the hot path appends records (``append``) and bumps the
per-series pending lists; ``fold_soon`` folds on the calling thread once the
buffer is full; a reader takes ``snapshot()``, which folds under the lock and
hands back the aggregates, so a scrape never sees half a fold and nothing
outside this module takes the lock or calls the fold.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from ._health import Health
from ._labels import LabelGuard
from ._series import SCORE, CallSeries, CallState, Hist, response_model
from .catalogue.values import OTHER
from .inputs import InvalidInput, amount, flag, fraction
from .pricing import PriceTable
from .usage import Usage

Record = tuple[Callable[[Any, Any], None], Any, Any]

#: One business outcome worth a trillion dollars is a unit mistake, not revenue.
MAX_OUTCOME_USD = 1e12


class Aggregates:
    """What one Tracker has recorded: call series and the totals of the record functions."""

    def __init__(self, service: str, labels: LabelGuard, health: Health, prices: PriceTable,
                 buffer_size: int) -> None:
        self.service = service
        self.labels = labels
        self.health = health
        self.prices = prices
        self.buffer_size = buffer_size
        self._buffer: deque[Record] = deque()
        self._fold_lock = threading.Lock()
        self._series: dict[tuple[str, str, str, str], CallSeries] = {}
        self._series_lock = threading.Lock()
        self.cache: dict[tuple[str, str, str, str], int] = {}
        self.overrides: dict[tuple[str, str, str], int] = {}
        self.scores: dict[tuple[str, str, str, str], Hist] = {}
        self.evaluations: dict[tuple[str, str, str, str, str], int] = {}
        self.pii: dict[tuple[str, str, str, str], int] = {}
        self.outcomes: dict[tuple[str, str], list[float]] = {}

    @contextmanager
    def snapshot(self) -> Iterator[Aggregates]:
        """Fold every buffered record, then hold the fold lock while the caller reads the totals."""
        with self._fold_lock:
            self._fold()
            yield self

    def call_series(self) -> list[CallSeries]:
        with self._series_lock:
            return list(self._series.values())

    def record(self, apply: Callable[[Any, Any], None], a: Any, b: Any) -> None:
        """Queue one record function's call; validated and folded later, off the caller's path."""
        self.append((apply, a, b))

    def series(self, model: str | None, operation: str, provider: str | None) -> CallSeries:
        """The series for these labels, created once; raw values are folded here."""
        model_value = self.labels.value("model", model) if model is not None else "unknown"
        price = self.prices.get(model_value) if model_value not in (OTHER, "unknown") else None
        if provider is None:
            provider = price.provider if price is not None else OTHER
        key = (self.service, model_value, self.labels.value("operation", operation),
               self.labels.value("provider", provider))
        with self._series_lock:
            found = self._series.get(key)
            if found is None:
                found = self._series[key] = CallSeries(key, price, self.health)
            return found

    def append(self, record: Record) -> None:
        buffer = self._buffer
        buffer.append(record)
        if len(buffer) >= self.buffer_size:
            self.fold_soon()

    def fold_soon(self) -> None:
        """Fold now on this thread unless another thread is already folding."""
        if self._fold_lock.acquire(blocking=False):
            try:
                self._fold()
            finally:
                self._fold_lock.release()

    def _fold(self) -> None:
        health = self.health
        for series in self.call_series():
            try:
                series.fold_pending()
            except Exception as exc:
                health.error("fold", exc)
        pop = self._buffer.popleft
        while True:
            try:
                apply, a, b = pop()
            except IndexError:
                return
            try:
                apply(a, b)
            except InvalidInput as exc:
                health.error("record", exc)
            except Exception as exc:
                health.error("fold", exc)

    def _model(self, model: str | None) -> str:
        return self.labels.value("model", model) if model is not None else "unknown"

    # The fold targets below validate what user code passed (``inputs``); a value that
    # cannot enter an aggregate raises InvalidInput, which the fold counts as an SDK error.
    def add_cache(self, key: tuple[str | None, str], hit: Any) -> None:
        found = flag(hit)
        labels = (self.service, self._model(key[0]), self.labels.value("cache", key[1]), "hit" if found else "miss")
        self.cache[labels] = self.cache.get(labels, 0) + 1

    def add_score(self, key: tuple[str | None, str, str], score: Any) -> None:
        value = fraction(score)
        labels = (self.service, self._model(key[0]), self.labels.value("evaluator", key[1]),
                  self.labels.value("method", key[2]))
        hist = self.scores.get(labels)
        if hist is None:
            hist = self.scores[labels] = Hist(SCORE)
        hist.observe(value)

    def add_verdict(self, key: tuple[str | None, str, str], passed: Any) -> None:
        labels = (self.service, self._model(key[0]), self.labels.value("evaluator", key[1]),
                  self.labels.value("method", key[2]), "pass" if flag(passed) else "fail")
        self.evaluations[labels] = self.evaluations.get(labels, 0) + 1

    def add_override(self, model: str | None, action: str) -> None:
        labels = (self.service, self._model(model), self.labels.value("action", action))
        self.overrides[labels] = self.overrides.get(labels, 0) + 1

    def add_pii(self, key: tuple[str | None, str], kind: str) -> None:
        labels = (self.service, self._model(key[0]), self.labels.value("pii_kind", kind),
                  self.labels.value("method", key[1]))
        self.pii[labels] = self.pii.get(labels, 0) + 1

    def add_outcome(self, key: tuple[str, str], value_usd: Any) -> None:
        value = amount(value_usd, MAX_OUTCOME_USD)
        labels = (self.labels.value("outcome_kind", key[0]), self.labels.value("cohort", key[1]))
        totals = self.outcomes.get(labels)
        if totals is None:
            totals = self.outcomes[labels] = [0.0, 0.0]
        totals[0] += 1
        totals[1] += value

    def add_dynamic(self, static: tuple[str, str | None, Callable[[Any], Usage | None] | None],
                    payload: tuple[float, Any]) -> None:
        """A call tracked with ``model=None``: the series is chosen from the response."""
        operation, provider, extract = static
        duration, result = payload
        state = result if isinstance(result, CallState) else None
        response = state.response if state is not None else result
        model = state.model if state is not None else None
        if model is None:
            model = response_model(response)
        series = self.series(model, operation, provider)
        if state is not None:
            series.add_state(duration, state)
        else:
            series.add_result(duration, result, extract)
