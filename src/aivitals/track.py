"""``track``: one object that decorates sync/async functions and generators, and is a context manager.

The user's function, its signature, name and docstring are kept; its
exceptions are re-raised unchanged. aivitals' own failures are counted in
``aivitals_sdk_errors_total`` and never reach the caller.
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import AsyncGenerator, Callable, Generator
from typing import TYPE_CHECKING, Any, TypeVar

from ._series import CallState
from .call import Call, Stream, classify
from .usage import Usage

if TYPE_CHECKING:
    from .evaluators.hook import Sample
    from .tracker import Tracker

F = TypeVar("F", bound=Callable[..., Any])

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
                wrapper = self._wrap_gen(fn)  # a stream's text is not collected for evaluation
            elif inspect.iscoroutinefunction(fn):
                wrapper = self._wrap_async(fn, self._sample())
            else:
                wrapper = self._wrap_sync(fn, self._sample())
            return functools.wraps(fn)(wrapper)  # type: ignore[return-value]
        except Exception as exc:
            self.tracker.health.error("decorate", exc)
            return fn

    def _sample(self) -> Sample | None:
        """With evaluation on, how this function's results are sampled for the evaluators; else None."""
        worker = self.tracker.evaluator
        if worker is None:
            return None
        from .evaluators.hook import sampler

        return sampler(worker, self.model, worker.config.extract)

    def _fast_path(self) -> tuple[Callable[[float], None], list[Any], int, Callable[[], None]] | None:
        """(append duration, pending responses, limit, fold) for a fixed model and the built-in reader."""
        series = self._series
        if series is None or self.extract is not None:
            return None
        aggregates = self._aggregates
        return (series.pending_durations.append, series.pending_responses, aggregates.buffer_size,
                aggregates.fold_soon)

    def _wrap_sync(self, fn: Callable[..., Any], sample: Sample | None = None) -> Callable[..., Any]:
        if sample is not None:
            return self._wrap_sync_sampled(fn, sample)
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

    def _wrap_async(self, fn: Callable[..., Any], sample: Sample | None = None) -> Callable[..., Any]:
        if sample is not None:
            return self._wrap_async_sampled(fn, sample)
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

    # The sampled forms: the same recording, then one draw; no extra call frame on the hot path.
    def _wrap_sync_sampled(self, fn: Callable[..., Any], sample: Sample) -> Callable[..., Any]:
        draw, rate, submit = sample
        clock, failed, health = self.tracker.clock, self.failed, self.tracker.health
        fast = self._fast_path()
        if fast is not None:  # the common case, with the fast path's appends inline
            add_duration, responses, limit, fold_soon = fast
            add_response = responses.append

            def tracked_fast_sampled(*args: Any, **kwargs: Any) -> Any:
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
                if draw() < rate:
                    submit(result, args, kwargs)
                return result

            return tracked_fast_sampled
        record = self._recorder()

        def tracked_sampled(*args: Any, **kwargs: Any) -> Any:
            start = clock()
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:
                failed(start, exc)
                raise
            record(start, result)
            if draw() < rate:
                submit(result, args, kwargs)
            return result

        return tracked_sampled

    def _wrap_async_sampled(self, fn: Callable[..., Any], sample: Sample) -> Callable[..., Any]:
        draw, rate, submit = sample
        record = self._recorder()
        clock, failed = self.tracker.clock, self.failed

        async def tracked_sampled(*args: Any, **kwargs: Any) -> Any:
            start = clock()
            try:
                result = await fn(*args, **kwargs)
            except BaseException as exc:
                failed(start, exc)
                raise
            record(start, result)
            if draw() < rate:
                submit(result, args, kwargs)
            return result

        return tracked_sampled

    def _recorder(self) -> Callable[[float, Any], None]:
        """Record one returned call (the fast path's appends, or the general record); never raises."""
        clock, health = self.tracker.clock, self.tracker.health
        fast = self._fast_path()
        if fast is not None:
            add_duration, responses, limit, fold_soon = fast
            add_response = responses.append

            def record_fast(start: float, result: Any) -> None:
                try:
                    add_duration(clock() - start)
                    add_response(result)
                    if len(responses) >= limit:
                        fold_soon()
                except Exception as exc:
                    health.error("record", exc)

            return record_fast
        append, apply = self._aggregates.append, self.apply

        def record(start: float, result: Any) -> None:
            try:
                append((apply, clock() - start, result))
            except Exception as exc:
                health.error("record", exc)

        return record

    def _wrap_gen(self, fn: Callable[..., Generator[Any, Any, Any]]) -> Callable[..., Any]:
        track = self

        def tracked(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
            stream = Stream(track)
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
            stream = Stream(track)
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
