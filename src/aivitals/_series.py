"""In-process aggregates that records are folded into, and exposed from at scrape.

Plain Python lists and floats, no locks of their own: the recorder folds
under its lock, so the hot path never touches them.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ._health import Health
from .catalogue.values import (
    COST_KINDS,
    DURATION_BUCKETS,
    OUTCOMES,
    SCORE_BUCKETS,
    TOKEN_BUCKETS,
    TOKEN_TYPES,
    TPOT_BUCKETS,
    TTFT_BUCKETS,
)
from .inputs import duration as valid_duration
from .pricing import Price
from .usage import Usage, UsageError, is_sdk_stream, model_of, read_response, refused, usage_from

Extractor = Callable[[Any], "Usage | None"]
OK, ERROR, REFUSED, TIMEOUT, CANCELLED = (OUTCOMES.index(o) for o in ("ok", "error", "refused", "timeout", "cancelled"))


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

    def observe_many(self, values: list[float] | list[int]) -> None:
        """Observe a batch: one C-speed sort, then a bisection per bound."""
        if not values:
            return
        values.sort()
        total = sum(values)
        if not (values[0] >= 0 and total < math.inf):  # a clock that went back, or NaN: clamp to 0
            values[:] = sorted(valid_duration(v) for v in values)  # type: ignore[misc]
            total = sum(values)
        counts = self.counts
        below = 0
        for index, bound in enumerate(self.bounds):
            upto = bisect_right(values, bound)  # values <= bound
            counts[index] += upto - below
            below = upto
        counts[-1] += len(values) - below
        self.sum += total



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
    #: Why this call's tokens cannot be known, when the recorder knows better than "no usage".
    unmetered: str | None = None
    events: list[tuple[Callable[..., None], tuple[Any, ...]]] = field(default_factory=list)


# The same constants the catalogue gives these metrics (a test checks they agree).
_DURATION, _TTFT, _TPOT, _TOKENS, SCORE = (DURATION_BUCKETS, TTFT_BUCKETS, TPOT_BUCKETS, TOKEN_BUCKETS,
                                           SCORE_BUCKETS)
_IN, _OUT, _CACHED, _WRITE, _REASONING = (TOKEN_TYPES.index(t) for t in
                                          ("input", "output", "cached_input", "cache_creation", "reasoning"))


class CallSeries:
    """Everything recorded about calls with one (service, model, operation, provider)."""

    __slots__ = ("duration", "errors", "gpu_seconds", "health", "labels", "metered", "outcomes",
                 "pending_durations", "pending_responses", "price", "tokens", "tokens_in", "tokens_out",
                 "tpot", "ttft", "unmetered", "unpriced")

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
        self.unpriced = 0
        #: Calls of a token-priced model whose tokens are unknown, by reason: their cost would read $0.
        self.unmetered: dict[str, int] = {}
        self.metered = price is not None and price.gpu_hour is None
        self.pending_durations: list[float] = []
        self.pending_responses: list[Any] = []
        self.gpu_seconds = 0.0

    # -- fold targets ------------------------------------------------------------------
    def fold_pending(self) -> None:
        """Fold the hot path's pending durations and responses.

        The hot path appends a duration, then a response, to two lists; only
        the first ``len(responses)`` entries of each are taken, and removed with
        one slice deletion, which is atomic under the GIL. Durations and
        responses may pair differently under concurrency; no aggregate depends
        on their pairing, only on their counts.
        """
        responses = self.pending_responses
        n = len(responses)
        if not n:
            return
        batch = responses[:n]
        del responses[:n]
        durations = self.pending_durations
        times = durations[:n]
        del durations[:n]
        self.duration.observe_many(times)
        if self.price is not None and self.price.gpu_hour is not None:
            self.gpu_seconds += sum(times) * self.price.gpus
        read = read_response
        tokens = self.tokens
        inputs: list[int] = []
        outputs: list[int] = []
        add_input = inputs.append
        add_output = outputs.append
        cached = written = reasoning = refusals = 0
        for response in batch:
            try:
                found = read(response)
            except Exception as exc:
                self.health.error("usage", exc)
                self.unmetered_call("unreadable")
                continue
            counts = None
            if found is not None:
                counts, was_refused = found
                if was_refused:
                    refusals += 1
            if counts is not None:
                add_input(counts[0])
                add_output(counts[1])
                cached += counts[2]
                written += counts[3]
                reasoning += counts[4]
            elif self.metered:
                self.unmetered_call("stream_not_consumed" if is_sdk_stream(response) else "no_usage")
        tokens[_CACHED] += cached
        tokens[_WRITE] += written
        tokens[_REASONING] += reasoning
        if inputs:
            tokens[_IN] += sum(inputs)
            tokens[_OUT] += sum(outputs)
            self.tokens_in.observe_many(inputs)
            self.tokens_out.observe_many(outputs)
        self.outcomes[REFUSED] += refusals
        self.outcomes[OK] += n - refusals
        if self.price is None:
            self.unpriced += n

    def add_result(self, duration: float, response: Any, extract: Extractor | None = None) -> None:
        """One call that returned ``response``, read by ``extract`` or the built-in reader."""
        state = CallState(response=response, extract=extract)
        self.add_state(duration, state)

    def add_state(self, duration: float, state: CallState) -> None:
        """A call recorded through a handle, a stream, a failure or a custom extractor."""
        usage, was_refused, unreadable = self._usage_of(state)
        outcome = state.outcome
        if outcome == OK and was_refused:
            outcome = REFUSED
        duration = valid_duration(duration)
        if state.refused and outcome == OK:
            outcome = REFUSED
        if state.error_type is not None:
            self.errors[state.error_type] = self.errors.get(state.error_type, 0) + 1
        if state.first_chunk is not None:
            self.ttft.observe(valid_duration(state.first_chunk))
        if state.per_chunk is not None:
            self.tpot.observe(valid_duration(state.per_chunk))
        self.duration.observe(duration)
        self.outcomes[outcome] += 1
        if usage is not None:
            tokens = self.tokens
            tokens[_IN] += usage.input
            tokens[_OUT] += usage.output
            tokens[_CACHED] += usage.cached_input
            tokens[_WRITE] += usage.cache_creation
            tokens[_REASONING] += usage.reasoning
            self.tokens_in.observe(usage.input)
            self.tokens_out.observe(usage.output)
        elif self.metered and (outcome in (OK, REFUSED) or state.first_chunk is not None):
            # Answered (or streamed, then failed) with no tokens known: billed, but its cost would read $0.
            self.unmetered_call(state.unmetered or ("unreadable" if unreadable else "no_usage"))
        price = self.price
        if price is None:
            self.unpriced += 1
        elif price.gpu_hour is not None:
            self.gpu_seconds += duration * price.gpus if state.gpu_seconds is None else state.gpu_seconds

    def unmetered_call(self, reason: str) -> None:
        self.unmetered[reason] = self.unmetered.get(reason, 0) + 1

    def _usage_of(self, state: CallState) -> tuple[Usage | None, bool, bool]:
        """Tokens, provider refusal and whether usage was unreadable; every count validated, a bad one counted."""
        usage = state.usage
        was_refused = unreadable = False
        if state.response is not None:
            try:
                if state.extract is not None:
                    found = state.extract(state.response)  # user code: any value, or a raise
                    if found is not None:
                        usage = usage_from(found)
                        if usage is None:
                            raise UsageError("the usage extractor returned something that is not usage")
                    was_refused = refused(state.response)
                else:
                    read = read_response(state.response)
                    counts, was_refused = read if read is not None else (None, False)
                    if counts is not None:
                        usage = Usage(*counts)
            except Exception as exc:
                self.health.error("usage", exc)
                usage = state.usage
                unreadable = True
        if usage is not None:
            try:
                usage = usage.checked()
            except Exception as exc:
                self.health.error("usage", exc)
                usage = None
                unreadable = True
        return usage, was_refused, unreadable

    def costs(self) -> list[float]:
        """Spend by cost kind, derived from the token and GPU-time totals (cost is linear in both)."""
        price = self.price
        if price is None:
            return [0.0] * len(COST_KINDS)
        tokens = self.tokens
        usage = Usage(tokens[_IN], tokens[_OUT], tokens[_CACHED], tokens[_WRITE], tokens[_REASONING])
        return [*price.token_cost(usage), self.gpu_seconds * (price.gpu_hour or 0.0) / 3600.0]


def response_model(response: Any) -> str | None:
    """The model a response names, for calls tracked without a fixed model."""
    try:
        return model_of(response)
    except Exception:
        return None
