"""LiteLLM: ``completion``, ``acompletion``, ``embedding`` and ``aembedding`` on the ``litellm`` module.

The provider comes from the model's ``provider/`` prefix (``anthropic/claude-haiku-4-5``).
A stream is LiteLLM's ``CustomStreamWrapper``; it is measured in place by giving
that one object a subclass whose ``__next__``/``__anext__`` time each chunk, so
the caller keeps the same object, type checks included. The OpenAI client that
LiteLLM may call underneath is not measured a second time.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from functools import partial
from typing import Any

from ..call import Stream
from ._core import (
    _INSIDE,
    ACTIVE,
    CallRecorder,
    Instrumentation,
    Operation,
    end_stream,
    hidden_usage_chunk,
    patch,
    take_usage,
)

_FUNCTIONS = (
    ("completion", Operation("chat", None, ask_stream_usage=True, model_prefix=True)),
    ("acompletion", Operation("chat", None, is_async=True, ask_stream_usage=True, model_prefix=True)),
    ("embedding", Operation("embeddings", None, model_prefix=True)),
    ("aembedding", Operation("embeddings", None, is_async=True, model_prefix=True)),
)
_MEASURE = "_aivitals_measure"


def instrument(inst: Instrumentation, target: Any = None) -> list[str]:
    """Patch the ``litellm`` module's functions (``target`` is not used: LiteLLM has no client object)."""
    module = importlib.import_module("litellm")
    done = []
    for name, op in _FUNCTIONS:
        if patch(inst, module, name, partial(_wrap, op=op)):
            done.append(name)
    return done


def _wrap(original: Callable[..., Any], op: Operation) -> Callable[..., Any]:
    def start(kwargs: dict[str, Any]) -> tuple[CallRecorder, dict[str, Any]] | None:
        inst = ACTIVE[0]
        if inst is None or _INSIDE.get():
            return None
        try:
            recorder = CallRecorder(inst, op, kwargs)
            return recorder, recorder.prepare(kwargs)
        except Exception as exc:
            inst.tracker.health.error("record", exc)
            return None

    if op.is_async:
        async def measured_async(*args: Any, **kwargs: Any) -> Any:
            started = start(kwargs)
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
            return _returned(result, recorder, kwargs)

        return functools.wraps(original)(measured_async)

    def measured(*args: Any, **kwargs: Any) -> Any:
        started = start(kwargs)
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
        return _returned(result, recorder, kwargs)

    return functools.wraps(original)(measured)


def _returned(result: Any, recorder: CallRecorder, kwargs: dict[str, Any]) -> Any:
    try:
        if kwargs.get("stream") is True:
            try:
                result.__class__ = _measured_class(type(result))
                object.__setattr__(result, _MEASURE, StreamMeasure(recorder))
            except (TypeError, AttributeError):  # not a stream object aivitals can measure in place
                recorder.returned(None, "unreadable")
        else:
            recorder.returned(result)
    except Exception as exc:
        recorder.inst.tracker.health.error("record", exc)
    return result


class StreamMeasure:
    """The timing and usage of one LiteLLM stream, ended once."""

    __slots__ = ("ended", "recorder", "stream")

    def __init__(self, recorder: CallRecorder) -> None:
        self.recorder = recorder
        self.stream: Stream = recorder.stream()
        self.ended = False

    def chunk(self, chunk: Any) -> bool:
        """Observe one chunk; False when it is the usage chunk we asked for, kept from the caller."""
        if self.recorder.ask_usage and hidden_usage_chunk(chunk):
            take_usage(self.stream, chunk)
            return False
        self.stream.chunk(chunk)
        return True

    def end(self, exc: BaseException | None, complete: bool) -> None:
        if not self.ended:
            self.ended = True
            end_stream(self.recorder, self.stream, exc, complete)


_CLASSES: dict[type, type] = {}


def _measured_class(cls: type) -> type:
    """``cls`` with measured ``__next__``/``__anext__``, made once per class."""
    found = _CLASSES.get(cls)
    if found is not None:
        return found

    def __next__(self: Any) -> Any:
        measure = self.__dict__.get(_MEASURE)
        while True:
            try:
                chunk = cls.__next__(self)  # type: ignore[attr-defined]
            except StopIteration:
                if measure is not None:
                    measure.end(None, True)
                raise
            except BaseException as exc:
                if measure is not None:
                    measure.end(exc, False)
                raise
            if measure is None or measure.chunk(chunk):
                return chunk

    async def __anext__(self: Any) -> Any:
        measure = self.__dict__.get(_MEASURE)
        while True:
            try:
                chunk = await cls.__anext__(self)  # type: ignore[attr-defined]
            except StopAsyncIteration:
                if measure is not None:
                    measure.end(None, True)
                raise
            except BaseException as exc:
                if measure is not None:
                    measure.end(exc, False)
                raise
            if measure is None or measure.chunk(chunk):
                return chunk

    def __del__(self: Any) -> None:
        measure = self.__dict__.get(_MEASURE)
        if measure is not None:
            measure.end(GeneratorExit(), False)  # abandoned before its end: counted as cancelled
        parent = getattr(cls, "__del__", None)
        if parent is not None:
            parent(self)

    found = _CLASSES[cls] = type(cls.__name__, (cls,), {
        "__next__": __next__, "__anext__": __anext__, "__del__": __del__, "__module__": cls.__module__,
        "__qualname__": cls.__qualname__})
    return found
