"""In-process aggregates that records are folded into, and exposed from at scrape.

Plain Python lists and floats, no locks of their own: the recorder folds
under its lock, so the hot path never touches them.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ._health import Health
from .catalogue import METRICS_BY_NAME
from .catalogue.labels import COST_KINDS, OUTCOMES, TOKEN_TYPES
from .pricing import Price
from .usage import Usage, model_of, refused, usage_of_response

Extractor = Callable[[Any], "Usage | None"]
OK, ERROR, REFUSED, TIMEOUT, CANCELLED = (OUTCOMES.index(o) for o in ("ok", "error", "refused", "timeout", "cancelled"))


def buckets_of(metric: str) -> tuple[float, ...]:
    return METRICS_BY_NAME[metric].buckets


class Hist:
    """A histogram's per-bucket (not cumulative) counts and sum."""

    __slots__ = ("bounds", "counts", "sum")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)
        self.sum = 0.0

    def observe(self, value: float) -> None:
        # bisect_left: a value equal to a bound belongs to that bound's bucket (le).
        self.counts[bisect_left(self.bounds, value)] += 1
        self.sum += value

    def cumulative(self) -> list[tuple[str, float]]:
        out: list[tuple[str, float]] = []
        total = 0
        for bound, count in zip(self.bounds, self.counts):
            total += count
            out.append((_le(bound), total))
        out.append(("+Inf", total + self.counts[-1]))
        return out


def _le(bound: float) -> str:
    return repr(float(bound))


@dataclass
class CallState:
    """What the slow paths (context manager, streams, failures) know about one call."""

    outcome: int = OK
    error_type: str | None = None
    usage: Usage | None = None
    response: Any = None
    refused: bool = False
    model: str | None = None
    first_chunk: float | None = None
    per_chunk: float | None = None
    gpu_seconds: float | None = None
    extract: Extractor | None = None
    events: list[tuple[Callable[..., None], tuple[Any, ...]]] = field(default_factory=list)


_DURATION = buckets_of("aivitals_request_duration_seconds")
_TTFT = buckets_of("aivitals_time_to_first_chunk_seconds")
_TPOT = buckets_of("aivitals_time_per_output_chunk_seconds")
_TOKENS = buckets_of("aivitals_request_tokens")
_IN, _OUT, _CACHED, _WRITE, _REASONING = (TOKEN_TYPES.index(t) for t in
                                          ("input", "output", "cached_input", "cache_creation", "reasoning"))
_COST_GPU = COST_KINDS.index("gpu_time")


class CallSeries:
    """Everything recorded about calls with one (service, model, operation, provider)."""

    __slots__ = ("cost", "duration", "errors", "gpu_seconds", "health", "labels", "outcomes", "price",
                 "tokens", "tokens_in", "tokens_out", "tpot", "ttft", "unpriced")

    def __init__(self, labels: tuple[str, str, str, str], price: Price | None, health: Health) -> None:
        self.labels = labels
        self.price = price
        self.health = health
        self.outcomes = [0] * len(OUTCOMES)
        self.errors: dict[str, int] = {}
        self.duration = Hist(_DURATION)
        self.ttft = Hist(_TTFT)
        self.tpot = Hist(_TPOT)
        self.tokens = [0] * len(TOKEN_TYPES)
        self.tokens_in = Hist(_TOKENS)
        self.tokens_out = Hist(_TOKENS)
        self.cost = [0.0] * len(COST_KINDS)
        self.unpriced = 0
        self.gpu_seconds = 0.0

    # -- fold targets: each takes (duration, payload) ---------------------------------
    def add_result(self, duration: float, response: Any, extract: Extractor = usage_of_response) -> None:
        """A call that returned ``response`` (the hot path's record)."""
        usage = None
        outcome = OK
        if response is not None:
            try:
                usage = extract(response)
                if refused(response):
                    outcome = REFUSED
            except Exception as exc:
                self.health.error("usage", exc)
                usage = None
        self._finish(duration, outcome, usage)

    def add_custom(self, duration: float, pair: tuple[Any, Extractor]) -> None:
        """A call that returned a response read by the user's own usage extractor."""
        self.add_result(duration, pair[0], pair[1])

    def add_state(self, duration: float, state: CallState) -> None:
        """A call recorded through a handle, a stream or a failure."""
        usage = state.usage
        outcome = state.outcome
        if state.response is not None:
            try:
                found = (state.extract or usage_of_response)(state.response)
                usage = found if found is not None else usage
                if outcome == OK and refused(state.response):
                    outcome = REFUSED
            except Exception as exc:
                self.health.error("usage", exc)
        if state.refused and outcome == OK:
            outcome = REFUSED
        if state.error_type is not None:
            self.errors[state.error_type] = self.errors.get(state.error_type, 0) + 1
        if state.first_chunk is not None:
            self.ttft.observe(state.first_chunk)
        if state.per_chunk is not None:
            self.tpot.observe(state.per_chunk)
        self._finish(duration, outcome, usage, state.gpu_seconds)
        for apply, args in state.events:
            apply(*args)

    def _finish(self, duration: float, outcome: int, usage: Usage | None, gpu_seconds: float | None = None) -> None:
        self.duration.observe(duration)
        self.outcomes[outcome] += 1
        tokens = self.tokens
        if usage is not None:
            tokens[_IN] += usage.input
            tokens[_OUT] += usage.output
            tokens[_CACHED] += usage.cached_input
            tokens[_WRITE] += usage.cache_creation
            tokens[_REASONING] += usage.reasoning
            self.tokens_in.observe(usage.input)
            self.tokens_out.observe(usage.output)
        price = self.price
        if price is None:
            self.unpriced += 1
            return
        cost = self.cost
        if usage is not None:
            plain, out, cached, write = price.token_cost(usage)
            cost[0] += plain
            cost[1] += out
            cost[2] += cached
            cost[3] += write
        if price.gpu_hour is not None:
            seconds = duration * price.gpus if gpu_seconds is None else gpu_seconds
            self.gpu_seconds += seconds
            cost[_COST_GPU] += seconds * price.gpu_hour / 3600.0


def response_model(response: Any) -> str | None:
    """The model a response names, for calls tracked without a fixed model."""
    try:
        return model_of(response)
    except Exception:
        return None
