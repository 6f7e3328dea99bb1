"""The Tracker: records model calls through a decorator or a context manager.

The hot path takes two timestamps and appends one record to a deque; records
are folded into in-process aggregates at scrape time, or by the calling
thread once the buffer holds ``buffer_size`` records. A scrape folds first, so
it sees every call that has returned.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable
from time import perf_counter
from typing import TYPE_CHECKING, Any

from ._health import Health
from ._labels import LabelGuard
from ._series import SCORE, CallSeries, CallState, Hist, response_model
from .catalogue.values import OTHER
from .inputs import InvalidInput, amount, flag, fraction
from .pricing import PriceTable, PriceTableError
from .pricing import load as load_prices
from .pricing import shipped as shipped_prices
from .usage import Usage

if TYPE_CHECKING:
    from .track import Track

Record = tuple[Callable[[Any, Any], None], Any, Any]

#: One business outcome worth a trillion dollars is a unit mistake, not revenue.
MAX_OUTCOME_USD = 1e12


class Tracker:
    """Records model calls into its own aggregates, exposed by a collector on ``registry``.

    Args:
        registry: where to register the collector; None registers nowhere (call ``collector()``).
        service: the ``service`` label; defaults to ``$AIVITALS_SERVICE`` or ``default``.
        prices: a price file path or a PriceTable merged over the shipped table.
        max_models: distinct model names kept before further ones fold into ``other``.
        buffer_size: records held before the calling thread folds them.
        clock: monotonic seconds; injectable for tests and simulations.
        multiprocess: mirror into prometheus_client's multiprocess files; by default when
            ``PROMETHEUS_MULTIPROC_DIR`` is set (gunicorn, several uvicorn workers).
        evaluate: run aivitals' own evaluators off the hot path on a sample of calls: ``True``
            (5%), a sample rate in 0..1, or an ``aivitals.evaluators.worker.EvaluateConfig``
            (rate per model, queue size, LLM judge, argument extractor). Off by default.
    """

    def __init__(self, registry: Any = None, *, service: str | None = None,
                 prices: str | os.PathLike[str] | PriceTable | None = None, max_models: int = 50,
                 buffer_size: int = 1024, clock: Callable[[], float] = perf_counter,
                 multiprocess: bool | None = None, evaluate: Any = None) -> None:
        self.clock = clock
        self.health = Health()
        self.labels = LabelGuard(self.health, {"model": max_models})
        self.service = self.labels.value("service", service or os.environ.get("AIVITALS_SERVICE", "default"))
        self.prices = self._load_prices(prices)
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
        self._collector: Any = None
        if multiprocess is None:
            multiprocess = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
        self.mirror: Any = None
        if multiprocess:
            from ._multiprocess import MultiprocessMirror

            self.mirror = MultiprocessMirror(self)
        elif registry is not None:
            registry.register(self.collector())
        #: The evaluation worker when ``evaluate`` is on, else None (and the decorator is not wrapped).
        self.evaluator: Any = None
        if evaluate:
            from .evaluators.hook import start

            self.evaluator = start(self, evaluate, None if multiprocess else registry)

    def _load_prices(self, prices: str | os.PathLike[str] | PriceTable | None) -> PriceTable:
        table = shipped_prices()
        if isinstance(prices, PriceTable):
            return table.merged(prices)
        path = prices if prices is not None else os.environ.get("AIVITALS_PRICES")
        if path:
            try:
                return table.merged(load_prices(path))
            except PriceTableError as exc:
                if prices is not None:
                    raise  # an explicit argument: the caller asked and gets the clear error
                self.health.error("config", exc)
        return table

    # -- the public recording API --------------------------------------------------------------
    def track(self, model: str | None = None, operation: str = "chat", provider: str | None = None, *,
              usage: Callable[[Any], Usage | None] | None = None) -> Track:
        """A decorator for sync/async functions and generators, and a context manager.

        ``model=None`` takes the model the response names. ``usage`` replaces the
        built-in usage extraction with your own callable(response) -> Usage.
        """
        from .track import Track

        return Track(self, model, operation, provider, usage)

    def instrument(self, target: Any = None) -> list[str]:
        """Measure the OpenAI, Anthropic and LiteLLM clients into this tracker, without a decorator.

        ``target``: None for every installed client library, a library's module, or one
        client object. Returns what was patched; ``aivitals.uninstrument()`` restores it.
        """
        from .instrument import instrument

        return instrument(self, target)

    def record_cache(self, cache: str, hit: bool, *, model: str | None = None) -> None:
        """One cache lookup (``prompt``, ``embedding``, ``retrieval``, ``semantic``)."""
        self._append(self._add_cache, (model, cache), hit)

    def record_quality(self, evaluator: str, score: float, *, model: str | None = None, method: str = "app") -> None:
        """A quality score in 0..1 from an evaluator (``groundedness``, ``context_recall``, ...).

        ``method`` says how it was scored: ``app`` by the application; aivitals' evaluators pass their own.
        """
        self._append(self._add_score, (model, evaluator, method), score)

    def record_evaluation(self, evaluator: str, passed: bool, *, model: str | None = None,
                          method: str = "app") -> None:
        """A pass/fail verdict (``hallucination``: passed=False means an unsupported claim)."""
        self._append(self._add_verdict, (model, evaluator, method), passed)

    def record_override(self, action: str, *, model: str | None = None) -> None:
        """A suggestion shown (``suggested``), ``overridden`` by a person, or an override ``reversed``."""
        self._append(self._add_override, model, action)

    def record_pii(self, kind: str, *, model: str | None = None, method: str = "app") -> None:
        """A response in which personal data or a secret of ``kind`` was detected."""
        self._append(self._add_pii, (model, method), kind)

    def record_outcome(self, kind: str, *, value_usd: float = 0.0, cohort: str = "treatment") -> None:
        """A business outcome the AI contributed to (a resolved ticket, a converted lead), with its value."""
        self._append(self._add_outcome, (kind, cohort), value_usd)

    def flush(self) -> None:
        """Fold every buffered record into the aggregates now."""
        with self._fold_lock:
            self._fold()

    def collector(self) -> Any:
        """The prometheus_client collector exposing this tracker's series."""
        if self._collector is None:
            from ._collector import TrackerCollector

            self._collector = TrackerCollector(self)
        return self._collector

    def call_series(self) -> list[CallSeries]:
        with self._series_lock:
            return list(self._series.values())

    # -- internals -------------------------------------------------------------------------
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

    def _append(self, apply: Callable[[Any, Any], None], a: Any, b: Any) -> None:
        self.append((apply, a, b))

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
    # cannot enter an aggregate raises InvalidInput, which _fold counts as an SDK error.
    def _add_cache(self, key: tuple[str | None, str], hit: Any) -> None:
        found = flag(hit)
        labels = (self.service, self._model(key[0]), self.labels.value("cache", key[1]), "hit" if found else "miss")
        self.cache[labels] = self.cache.get(labels, 0) + 1

    def _add_score(self, key: tuple[str | None, str, str], score: Any) -> None:
        value = fraction(score)
        labels = (self.service, self._model(key[0]), self.labels.value("evaluator", key[1]),
                  self.labels.value("method", key[2]))
        hist = self.scores.get(labels)
        if hist is None:
            hist = self.scores[labels] = Hist(SCORE)
        hist.observe(value)

    def _add_verdict(self, key: tuple[str | None, str, str], passed: Any) -> None:
        labels = (self.service, self._model(key[0]), self.labels.value("evaluator", key[1]),
                  self.labels.value("method", key[2]), "pass" if flag(passed) else "fail")
        self.evaluations[labels] = self.evaluations.get(labels, 0) + 1

    def _add_override(self, model: str | None, action: str) -> None:
        labels = (self.service, self._model(model), self.labels.value("action", action))
        self.overrides[labels] = self.overrides.get(labels, 0) + 1

    def _add_pii(self, key: tuple[str | None, str], kind: str) -> None:
        labels = (self.service, self._model(key[0]), self.labels.value("pii_kind", kind),
                  self.labels.value("method", key[1]))
        self.pii[labels] = self.pii.get(labels, 0) + 1

    def _add_outcome(self, key: tuple[str, str], value_usd: Any) -> None:
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
