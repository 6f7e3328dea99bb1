"""LiteLLM: ``completion``, ``acompletion``, ``embedding`` and ``aembedding`` on the ``litellm`` module.

The provider comes from the model's ``provider/`` prefix (``anthropic/claude-haiku-4-5``).
A stream is LiteLLM's ``CustomStreamWrapper``; it is measured in place by giving
that one object a subclass whose ``__next__``/``__anext__`` time each chunk, so
the caller keeps the same object, type checks included. The OpenAI client that
LiteLLM may call underneath is not measured a second time.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable
from functools import partial
from typing import Any

from ._core import CallRecorder, Instrumentation, Operation, patch
from ._stream import StreamMeasure
from ._wrap import wrap_call

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
        if patch(inst, module, name, partial(wrap_call, op=op, handle=_returned)):
            done.append(name)
    return done


def _returned(result: Any, recorder: CallRecorder, kwargs: dict[str, Any], is_async: bool) -> Awaitable[None] | None:
    """Record a response, or measure a stream in place as the caller reads it."""
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
    return None


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
            except BaseException as exc:  # StopIteration included: the measure knows an end from a failure
                if measure is not None:
                    measure.end(exc)
                raise
            if measure is None or measure.chunk(chunk):
                return chunk

    async def __anext__(self: Any) -> Any:
        measure = self.__dict__.get(_MEASURE)
        while True:
            try:
                chunk = await cls.__anext__(self)  # type: ignore[attr-defined]
            except BaseException as exc:
                if measure is not None:
                    measure.end(exc)
                raise
            if measure is None or measure.chunk(chunk):
                return chunk

    def __del__(self: Any) -> None:
        measure = self.__dict__.get(_MEASURE)
        if measure is not None:
            measure.end(GeneratorExit())  # abandoned before its end: counted as cancelled
        parent = getattr(cls, "__del__", None)
        if parent is not None:
            parent(self)

    found = _CLASSES[cls] = type(cls.__name__, (cls,), {
        "__next__": __next__, "__anext__": __anext__, "__del__": __del__, "__module__": cls.__module__,
        "__qualname__": cls.__qualname__})
    return found
