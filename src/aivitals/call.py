"""What one tracked call knows: its outcome class, its stream timing, and the handle of a ``with`` block.

``classify`` names a failure without ever raising; ``Stream`` times a streamed
response and reads usage, refusals and the model from its chunks; ``Call`` is
what ``with track(...) as call`` gives. Track (``track.py``) drives them.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from ._series import CANCELLED, ERROR, TIMEOUT, CallState
from .catalogue.values import OTHER
from .inputs import InvalidInput, amount
from .usage import Usage, UsageError, chunk_model, chunk_refused, usage_of_chunk

if TYPE_CHECKING:
    from .track import Track

#: A year of a thousand GPUs: more GPU time than one call can use.
MAX_GPU_SECONDS = 1000 * 365 * 86400.0


def classify(exc: BaseException) -> tuple[int, str | None]:
    """Outcome index and exception class name of a failed call; never raises.

    The class is the user's: its ``__name__`` may be anything a metaclass returns,
    or raise. An unreadable name is recorded as ``other``.
    """
    if isinstance(exc, (GeneratorExit, KeyboardInterrupt)):
        return CANCELLED, None
    asyncio = sys.modules.get("asyncio")  # an asyncio exception implies asyncio is imported; don't import it
    if asyncio is not None and isinstance(exc, asyncio.CancelledError):
        return CANCELLED, None
    try:
        name = type(exc).__name__
        if type(name) is not str:
            name = OTHER
    except Exception:
        name = OTHER
    if isinstance(exc, TimeoutError) or (asyncio is not None and isinstance(exc, asyncio.TimeoutError)) or (
            "Timeout" in name):
        return TIMEOUT, name
    return ERROR, name


class Stream:
    """Times a streamed response: first chunk, mean time per later chunk, usage from the chunks."""

    __slots__ = ("chunks", "clock", "first", "last", "start", "state", "track")

    def __init__(self, track: Track) -> None:
        self.track = track
        self.clock = track.tracker.clock
        self.start = self.clock()
        self.first: float | None = None
        self.last = 0.0
        self.chunks = 0
        self.state = CallState()

    def chunk(self, value: Any) -> None:
        try:
            now = self.clock()
            if self.first is None:
                self.first = now
            self.last = now
            self.chunks += 1
            if value is None or isinstance(value, (str, bytes)):
                return
            state = self.state
            usage = usage_of_chunk(value)
            if usage is not None:
                if state.usage is None:
                    state.usage = usage
                else:
                    state.usage.merge_max(usage)
            if not state.refused and chunk_refused(value):
                state.refused = True
            if state.model is None and self.track.model is None:
                state.model = chunk_model(value)  # @track() without a model: every chunk names it
        except Exception as exc:
            self.track.tracker.health.error("stream", exc)

    def done(self, exc: BaseException | None) -> None:
        try:
            end = self.clock()
            state = self.state
            if exc is not None:
                state.outcome, state.error_type = classify(exc)
            if self.first is not None:
                state.first_chunk = self.first - self.start
                if self.chunks > 1:
                    state.per_chunk = (self.last - self.first) / (self.chunks - 1)
            self.track.record_state(end - self.start, state)
        except Exception as exc2:
            self.track.tracker.health.error("stream", exc2)


class Call:
    """The handle ``with track(...) as call`` gives: record what one function cannot see."""

    #: (question, contexts, user_input) from ``context()``; a class default, so calls without it pay nothing.
    _context: tuple[str, Any, str | None] | None = None

    def __init__(self, track: Track) -> None:
        self._track = track
        self._stream = Stream(track)
        self._state = self._stream.state
        self._ended = False

    @property
    def model(self) -> str | None:
        model = self._state.model
        return model if model is not None else self._track.model

    def set_model(self, model: str) -> None:
        """The model actually used, when it is only known inside the block."""
        if isinstance(model, str):
            self._state.model = model
        else:
            self._track.tracker.health.error("record")

    def record_response(self, response: Any) -> None:
        """Read usage and refusal from a provider response (OpenAI, Anthropic or a dict)."""
        self._state.response = response

    def set_tokens(self, input: int = 0, output: int = 0, cached_input: int = 0, cache_creation: int = 0,
                   reasoning: int = 0) -> None:
        """Token usage by hand: ``input`` includes cached input, ``output`` includes reasoning."""
        try:
            self._state.usage = Usage.of(input, output, cached_input, cache_creation, reasoning)
        except UsageError as exc:
            self._track.tracker.health.error("usage", exc)

    def chunk(self, value: Any = None) -> None:
        """Mark the arrival of one streamed chunk (reads usage from it if present)."""
        self._stream.chunk(value)

    def refused(self) -> None:
        """The model declined to answer."""
        self._state.refused = True

    def gpu_seconds(self, seconds: float) -> None:
        """GPU-seconds this call used (self-hosted models), instead of duration x GPUs."""
        try:
            self._state.gpu_seconds = amount(seconds, MAX_GPU_SECONDS)
        except InvalidInput as exc:
            self._track.tracker.health.error("record", exc)

    def cache(self, cache: str, hit: bool) -> None:
        """One cache lookup made for this call."""
        self._track.tracker.record_cache(cache, hit, model=self.model)

    def score(self, evaluator: str, value: float) -> None:
        """A quality score in 0..1 for this call's response."""
        self._track.tracker.record_quality(evaluator, value, model=self.model)

    def evaluation(self, evaluator: str, passed: bool) -> None:
        """A pass/fail verdict on this call's response."""
        self._track.tracker.record_evaluation(evaluator, passed, model=self.model)

    def context(self, contexts: Any = None, *, question: str = "", user_input: str | None = None) -> None:
        """What the model was given (retrieved ``contexts``: texts or ``{"id", "text"}``) and asked, for the
        evaluators when ``Tracker(evaluate=...)`` is on; ``user_input`` (default: the question) is what the
        user wrote, so PII they wrote first is not a leak. The response is the one given to ``record_response``."""
        self._context = (question, contexts, user_input)

    def finish(self, exc: BaseException | None = None) -> None:
        if self._ended:
            return
        self._ended = True
        self._stream.done(exc)
        worker = self._track.tracker.evaluator
        if worker is not None and exc is None:
            from .evaluators.hook import submit_handle

            submit_handle(worker, self.model, self._state.response, self._context)
