"""The wrappers installed over a client's methods: time the call, hand the result to a reader.

A reader (``Handle``) looks at what the client returned (a response, a raw
response, a stream) and records it; it must never raise. The caller always
gets the client's own return value or exception.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from ._core import _INSIDE, ACTIVE, CallRecorder, Operation
from ._stream import measure_sdk_stream

#: Records what the client returned: (result, recorder, the caller's kwargs, is_async); an awaitable it gives
#: back (an async client's raw-response parse) is awaited by the async wrapper before the result is returned.
Handle = Callable[[Any, CallRecorder, dict[str, Any], bool], "Awaitable[None] | None"]


def wrap_call(original: Callable[..., Any], op: Operation, handle: Handle) -> Callable[..., Any]:
    """A wrapper of a client function (sync or async by ``op``) that measures each call and lets ``handle`` read it."""
    if op.is_async:
        async def measured_async(*args: Any, **kwargs: Any) -> Any:
            started = _start(kwargs, op)
            if started is None:
                return await original(*args, **kwargs)
            recorder, sent = started
            token = _INSIDE.set(True)
            try:
                result = await original(*args, **sent)
            except BaseException as exc:
                recorder.failed(exc)
                raise
            finally:
                _INSIDE.reset(token)
            pending = handle(result, recorder, kwargs, True)
            if pending is not None:
                await pending
            return result

        return functools.wraps(original)(measured_async)

    def measured(*args: Any, **kwargs: Any) -> Any:
        started = _start(kwargs, op)
        if started is None:
            return original(*args, **kwargs)
        recorder, sent = started
        token = _INSIDE.set(True)
        try:
            result = original(*args, **sent)
        except BaseException as exc:
            recorder.failed(exc)
            raise
        finally:
            _INSIDE.reset(token)
        handle(result, recorder, kwargs, False)
        return result

    return functools.wraps(original)(measured)


def _start(kwargs: dict[str, Any], op: Operation) -> tuple[CallRecorder, dict[str, Any]] | None:
    """The recorder of one call and the request to send; None: pass the call straight through."""
    inst = ACTIVE[0]
    if inst is None or _INSIDE.get():
        return None
    try:
        recorder = CallRecorder(inst, op, kwargs)
        return recorder, recorder.prepare(kwargs)
    except Exception as exc:
        inst.tracker.health.error("record", exc)
        return None


def stainless(original: Callable[..., Any], op: Operation) -> Callable[..., Any]:
    """A wrapper for an OpenAI or Anthropic client method (sync or async by ``op``)."""
    return wrap_call(original, op, read_result)


def read_result(result: Any, recorder: CallRecorder, kwargs: dict[str, Any], is_async: bool) -> Awaitable[None] | None:
    """Record a Stainless client's (OpenAI, Anthropic) result: a response, a stream, or a raw response."""
    try:
        stream = kwargs.get("stream") is True
        if is_raw_response(result):
            if stream:
                recorder.returned(None, "stream_not_consumed")  # the stream is behind parse(): the user's to read
                return None
            parsed = result.parse()  # cached by the client: the caller's parse() gets the same object
            if inspect.isawaitable(parsed):
                return _record_parsed(parsed, recorder)
            recorder.returned(parsed)
        elif stream:
            measure_sdk_stream(result, recorder, is_async)
        else:
            recorder.returned(result)
    except Exception as exc:
        recorder.inst.tracker.health.error("record", exc)
    return None


def is_raw_response(result: Any) -> bool:
    """A ``with_raw_response`` result: the parsed object is behind ``parse()``.

    Read from the instance's own attributes: ``hasattr`` on a client's pydantic
    response would raise and catch an AttributeError inside pydantic on every call.
    """
    own = getattr(result, "__dict__", None)
    return type(own) is dict and "http_response" in own and hasattr(result, "parse")


async def _record_parsed(parsed: Awaitable[Any], recorder: CallRecorder) -> None:
    """A raw response's parse() is a coroutine on async clients: await it, never raise."""
    try:
        recorder.returned(await parsed)
    except Exception as exc:
        recorder.inst.tracker.health.error("record", exc)
