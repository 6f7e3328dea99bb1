"""``track``: one object that decorates sync/async functions and generators, and is a context manager.

The user's function, its signature, name and docstring are kept; its
exceptions are re-raised unchanged. aivitals' own failures are counted in
``aivitals_sdk_errors_total`` and never reach the caller.
"""

from __future__ import annotations

import contextvars
import functools
import sys
from collections.abc import AsyncGenerator, Callable, Generator
from typing import TYPE_CHECKING, Any, TypeVar

from ._series import CANCELLED, ERROR, TIMEOUT, CallState
from .catalogue.values import OTHER
from .inputs import InvalidInput, amount
from .usage import Usage, UsageError, chunk_model, chunk_refused, usage_of_chunk

if TYPE_CHECKING:
    from .tracker import Tracker

F = TypeVar("F", bound=Callable[..., Any])

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


#: The calls open in this context, innermost last, as (track, call). One variable for the
#: whole process: a ContextVar is never freed, so one per Track would grow with every ``with``.
_OPEN_CALLS: contextvars.ContextVar[tuple[tuple[Track, Call], ...]] = contextvars.ContextVar(
    "aivitals_open_calls", default=())


class Track:
    """Created by ``Tracker.track()``; see there."""

    def __init__(self, tracker: Tracker, model: str | None, operation: str, provider: str | None,
                 extract: Callable[[Any], Usage | None] | None) -> None:
        self.tracker = tracker
        aggregates = self._aggregates = tracker.aggregates
        self.model = model
        self.operation = operation
        self.provider = provider
        self.extract = extract
        try:
            if model is None:
                static = (operation, provider, extract)
                add_dynamic = aggregates.add_dynamic
                self._series = None
                self.apply: Callable[[Any, Any], None] = lambda d, r: add_dynamic(static, (d, r))
            else:
                series = self._series = aggregates.series(model, operation, provider)
                self.apply = lambda d, r: series.add_result(d, r, extract)
        except Exception as exc:  # never break the user's import because of us
            tracker.health.error("decorate", exc)
            self._series = None
            self.apply = lambda d, r: None

    # -- recording helpers shared by every path -------------------------------------------------
    def record_state(self, duration: float, state: CallState) -> None:
        """Record a call that went through a slow path (stream, failure, handle)."""
        try:
            if state.error_type is not None:
                state.error_type = self.tracker.labels.value("error_type", state.error_type)
            state.extract = self.extract
            if self._series is not None and state.model is None:
                self._aggregates.append((self._series.add_state, duration, state))
            else:
                static = (self.operation, self.provider, self.extract)
                if state.model is None:
                    state.model = self.model
                self._aggregates.append((self._aggregates.add_dynamic, static, (duration, state)))
        except Exception as exc:
            self.tracker.health.error("record", exc)

    def failed(self, start: float, exc: BaseException) -> None:
        """Record a call that raised; called before the user's exception is re-raised, so it never raises."""
        try:
            outcome, error_type = classify(exc)
            self.record_state(self.tracker.clock() - start, CallState(outcome=outcome, error_type=error_type))
        except Exception as own:
            self.tracker.health.error("record", own)

    # -- decorator ------------------------------------------------------------------------------
    def __call__(self, fn: F) -> F:
        import inspect  # at decoration, not at import: keeps `import aivitals` cheap

        try:
            if inspect.isasyncgenfunction(fn):
                wrapper: Callable[..., Any] = self._wrap_async_gen(fn)
            elif inspect.isgeneratorfunction(fn):
                wrapper = self._wrap_gen(fn)
            elif inspect.iscoroutinefunction(fn):
                wrapper = self._wrap_async(fn)
            else:
                wrapper = self._wrap_sync(fn)
            worker = self.tracker.evaluator
            if worker is not None:  # evaluation on: the sampled share of results goes to the worker
                from .evaluators.hook import evaluating

                wrapper = evaluating(wrapper, self.model, worker, worker.config.extract)
            return functools.wraps(fn)(wrapper)  # type: ignore[return-value]
        except Exception as exc:
            self.tracker.health.error("decorate", exc)
            return fn

    def _fast_path(self) -> tuple[Callable[[float], None], list[Any], int, Callable[[], None]] | None:
        """(append duration, pending responses, limit, fold) for a fixed model and the built-in reader."""
        series = self._series
        if series is None or self.extract is not None:
            return None
        aggregates = self._aggregates
        return (series.pending_durations.append, series.pending_responses, aggregates.buffer_size,
                aggregates.fold_soon)

    def _wrap_sync(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        append = self._aggregates.append
        clock = self.tracker.clock
        apply = self.apply
        failed = self.failed
        health = self.tracker.health
        fast = self._fast_path()
        if fast is not None:
            add_duration, responses, limit, fold_soon = fast
            add_response = responses.append

            def tracked_fast(*args: Any, **kwargs: Any) -> Any:
                start = clock()
                try:
                    result = fn(*args, **kwargs)
                except BaseException as exc:
                    failed(start, exc)
                    raise
                try:
                    add_duration(clock() - start)
                    add_response(result)
                    if len(responses) >= limit:
                        fold_soon()
                except Exception as exc:
                    health.error("record", exc)
                return result

            return tracked_fast

        def tracked(*args: Any, **kwargs: Any) -> Any:
            start = clock()
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:
                failed(start, exc)
                raise
            try:
                append((apply, clock() - start, result))
            except Exception as exc:
                health.error("record", exc)
            return result

        return tracked

    def _wrap_async(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        append = self._aggregates.append
        clock = self.tracker.clock
        apply = self.apply
        failed = self.failed
        health = self.tracker.health
        fast = self._fast_path()
        if fast is not None:
            add_duration, responses, limit, fold_soon = fast
            add_response = responses.append

            async def tracked_fast(*args: Any, **kwargs: Any) -> Any:
                start = clock()
                try:
                    result = await fn(*args, **kwargs)
                except BaseException as exc:
                    failed(start, exc)
                    raise
                try:
                    add_duration(clock() - start)
                    add_response(result)
                    if len(responses) >= limit:
                        fold_soon()
                except Exception as exc:
                    health.error("record", exc)
                return result

            return tracked_fast

        async def tracked(*args: Any, **kwargs: Any) -> Any:
            start = clock()
            try:
                result = await fn(*args, **kwargs)
            except BaseException as exc:
                failed(start, exc)
                raise
            try:
                append((apply, clock() - start, result))
            except Exception as exc:
                health.error("record", exc)
            return result

        return tracked

    def _wrap_gen(self, fn: Callable[..., Generator[Any, Any, Any]]) -> Callable[..., Any]:
        track = self

        def tracked(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
            stream = _Stream(track)
            gen = fn(*args, **kwargs)
            try:
                value = next(gen)
                while True:
                    stream.chunk(value)
                    try:
                        sent = yield value
                    except GeneratorExit:
                        raise
                    except BaseException as exc:
                        value = gen.throw(exc)
                    else:
                        value = gen.send(sent)
            except StopIteration as stop:
                stream.done(None)
                return stop.value
            except BaseException as exc:
                stream.done(exc)
                if isinstance(exc, GeneratorExit):
                    gen.close()
                raise

        return tracked

    def _wrap_async_gen(self, fn: Callable[..., AsyncGenerator[Any, Any]]) -> Callable[..., Any]:
        track = self

        async def tracked(*args: Any, **kwargs: Any) -> AsyncGenerator[Any, Any]:
            stream = _Stream(track)
            gen = fn(*args, **kwargs)
            try:
                value = await gen.__anext__()
                while True:
                    stream.chunk(value)
                    try:
                        sent = yield value
                    except GeneratorExit:
                        raise
                    except BaseException as exc:
                        value = await gen.athrow(exc)
                    else:
                        value = await gen.asend(sent)
            except StopAsyncIteration:
                stream.done(None)
            except BaseException as exc:
                stream.done(exc)
                if isinstance(exc, GeneratorExit):
                    await gen.aclose()
                raise

        return tracked

    # -- context manager ------------------------------------------------------------------------
    def __enter__(self) -> Call:
        call = Call(self)
        _OPEN_CALLS.set((*_OPEN_CALLS.get(), (self, call)))
        return call

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        stack = _OPEN_CALLS.get()
        for index in range(len(stack) - 1, -1, -1):  # this track's innermost open call
            if stack[index][0] is self:
                _OPEN_CALLS.set(stack[:index] + stack[index + 1:])
                stack[index][1].finish(exc)
                return
        self.tracker.health.error("record")

    async def __aenter__(self) -> Call:
        return self.__enter__()

    async def __aexit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        self.__exit__(exc_type, exc, tb)


class _Stream:
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
        self._stream = _Stream(track)
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
