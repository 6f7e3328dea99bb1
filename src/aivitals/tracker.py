"""The Tracker: records model calls through a decorator or a context manager.

The hot path takes two timestamps and appends one record to a deque; records
are folded into in-process aggregates at scrape time, or by the calling
thread once the buffer holds ``buffer_size`` records. A scrape folds first, so
it sees every call that has returned.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from time import perf_counter
from typing import TYPE_CHECKING, Any

from ._health import Health
from ._labels import LabelGuard
from ._series import CallSeries
from .aggregates import Aggregates
from .pricing import PriceTable, PriceTableError
from .pricing import load as load_prices
from .pricing import shipped as shipped_prices
from .usage import Usage

if TYPE_CHECKING:
    from .track import Track

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
        self._aggregates = Aggregates(self.service, self.labels, self.health, self.prices, buffer_size)
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
        self._record(self._aggregates.add_cache, (model, cache), hit)

    def record_quality(self, evaluator: str, score: float, *, model: str | None = None, method: str = "app") -> None:
        """A quality score in 0..1 from an evaluator (``groundedness``, ``context_recall``, ...).

        ``method`` says how it was scored: ``app`` by the application; aivitals' evaluators pass their own.
        """
        self._record(self._aggregates.add_score, (model, evaluator, method), score)

    def record_evaluation(self, evaluator: str, passed: bool, *, model: str | None = None,
                          method: str = "app") -> None:
        """A pass/fail verdict (``hallucination``: passed=False means an unsupported claim)."""
        self._record(self._aggregates.add_verdict, (model, evaluator, method), passed)

    def record_override(self, action: str, *, model: str | None = None) -> None:
        """A suggestion shown (``suggested``), ``overridden`` by a person, or an override ``reversed``."""
        self._record(self._aggregates.add_override, model, action)

    def record_pii(self, kind: str, *, model: str | None = None, method: str = "app") -> None:
        """A response in which personal data or a secret of ``kind`` was detected."""
        self._record(self._aggregates.add_pii, (model, method), kind)

    def record_outcome(self, kind: str, *, value_usd: float = 0.0, cohort: str = "treatment") -> None:
        """A business outcome the AI contributed to (a resolved ticket, a converted lead), with its value."""
        self._record(self._aggregates.add_outcome, (kind, cohort), value_usd)

    def flush(self) -> None:
        """Fold every buffered record into the aggregates now."""
        with self._aggregates.snapshot():
            pass

    def collector(self) -> Any:
        """The prometheus_client collector exposing this tracker's series."""
        if self._collector is None:
            from ._collector import TrackerCollector

            self._collector = TrackerCollector(self)
        return self._collector

    def call_series(self) -> list[CallSeries]:
        """The call series recorded so far (benchmarks and tests read their totals)."""
        return self._aggregates.call_series()

    @property
    def aggregates(self) -> Aggregates:
        """What this tracker recorded; read it through ``aggregates.snapshot()``, which folds first."""
        return self._aggregates

    def _record(self, apply: Callable[[Any, Any], None], a: Any, b: Any) -> None:
        self._aggregates.record(apply, a, b)
