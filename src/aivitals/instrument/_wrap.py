"""The wrappers installed over a client's methods: time the call, hand the result to a reader.

A reader (``Handle``) looks at what the client returned (a response, a raw
response, a stream) and records it; it must never raise. The caller always
gets the client's own return value or exception.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from ._core import _INSIDE, ACTIVE, CallRecorder, Operation, is_raw_response, measure_sdk_stream

Handle = Callable[[Any, CallRecorder, dict[str, Any]], Any]


def read_result(result: Any, recorder: CallRecorder, kwargs: dict[str, Any], is_async: bool) -> Any:
    """Record a Stainless client's (OpenAI, Anthropic) result; returns the parsed raw response to await, if any."""
    try:
        if is_raw_response(result):
            if kwargs.get("stream") is True:
                recorder.returned(None, "stream_not_consumed")  # the stream is behind parse(): the user's to read
                return None
            return result.parse()  # cached by the client: the caller's parse() gets the same object
        if kwargs.get("stream") is True:
            if not measure_sdk_stream(result, recorder, is_async):
                recorder.returned(None, "unreadable")
            return None
        recorder.returned(result)
    except Exception as exc:
        recorder.inst.tracker.health.error("record", exc)
    return None


def _start(kwargs: dict[str, Any], op: Operation) -> tuple[CallRecorder, dict[str, Any]] | None:
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
            parsed = read_result(result, recorder, kwargs, True)
            if parsed is not None:
                await _record_parsed(parsed, recorder)
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
        parsed = read_result(result, recorder, kwargs, False)
        if parsed is not None:
            recorder.returned(parsed)
        return result

    return functools.wraps(original)(measured)


async def _record_parsed(parsed: Any, recorder: CallRecorder) -> None:
    """A raw response's parse() is a coroutine on some async clients: await it, never raise."""
    try:
        if inspect.isawaitable(parsed):
            parsed = await parsed
        recorder.returned(parsed)
    except Exception as exc:
        recorder.inst.tracker.health.error("record", exc)
