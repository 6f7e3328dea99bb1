"""What every client instrumentation shares: the patch ledger, the per-call recorder, stream measurement.

A patch replaces one attribute of a client class or module and remembers the
original object, so ``uninstrument`` puts back the very same object. Wrappers
look up the active instrumentation on every call: a wrapper captured before
``uninstrument`` (a bound method kept by user code) then passes straight through.
aivitals never raises into the caller here: the user's exceptions pass
unchanged, aivitals' own failures are counted in ``aivitals_sdk_errors_total``.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..call import Stream, classify
from ..track import Track
from ..usage import chunk_model, chunk_refused, usage_of_chunk

if TYPE_CHECKING:
    from ..tracker import Tracker

log = logging.getLogger("aivitals")

#: Set while an instrumented call runs: a client called by another (LiteLLM calls the OpenAI client)
#: is then measured once, by the outer one.
_INSIDE: contextvars.ContextVar[bool] = contextvars.ContextVar("aivitals_instrumented_call", default=False)


@dataclass(frozen=True)
class Operation:
    """One patched entry point: what it does, who serves it, how its request reads."""

    operation: str  # the catalogue's operation label: chat, embeddings
    provider: str | None  # None: from the model (LiteLLM's "anthropic/..." prefix) or the price table
    is_async: bool = False
    #: OpenAI chat streams send usage only when asked: ask, and hide the extra chunk from the caller.
    ask_stream_usage: bool = False
    #: The request model's "provider/" prefix names the provider (LiteLLM).
    model_prefix: bool = False


class Instrumentation:
    """The active instrumentation: the tracker calls are recorded into, and the patches it made."""

    def __init__(self, tracker: Tracker) -> None:
        self.patches: list[tuple[Any, str, Any]] = []
        self.use(tracker)

    def use(self, tracker: Tracker) -> None:
        """Record into ``tracker`` from now on (the last ``instrument`` call's tracker wins)."""
        self.tracker = tracker
        self.clock = tracker.clock
        self._tracks: dict[tuple[str, str | None], Track] = {}

    def track(self, operation: str, provider: str | None) -> Track:
        """The model-less Track of one (operation, provider): the model comes with each call."""
        found = self._tracks.get((operation, provider))
        if found is None:
            found = self._tracks[(operation, provider)] = Track(self.tracker, None, operation, provider, None)
        return found

    def restore(self) -> None:
        """Put every original back, newest first, as the very same objects."""
        for owner, name, original in reversed(self.patches):
            try:
                if original is _ABSENT:
                    delattr(owner, name)
                else:
                    setattr(owner, name, original)
            except Exception as exc:
                self.tracker.health.error("decorate", exc)
        self.patches.clear()


#: The instrumentation wrappers record into; None once uninstrumented.
ACTIVE: list[Instrumentation | None] = [None]
#: Attribute set on every wrapper we install, naming the original it wraps.
WRAPPED = "__aivitals_wrapped__"


#: A patch on one object (a client's resource) is undone by removing our attribute.
_ABSENT = object()


def patch(inst: Instrumentation, owner: Any, name: str, make: Callable[[Any], Any], instance: bool = False) -> bool:
    """Replace ``owner.name`` by ``make(original)``, once; False when there is nothing to patch.

    ``instance``: ``owner`` is one object (a client's resource), patched through its
    own ``__dict__`` so its class and every other client stay as they are.
    """
    own = getattr(owner, "__dict__", {})
    current = own.get(name)
    if current is not None and getattr(current, WRAPPED, None) is not None:
        return True  # already ours (instrumenting twice)
    if instance:
        original, saved = getattr(owner, name, None), _ABSENT
    else:
        original = saved = current
    if original is None:
        return False
    wrapper = make(original)
    setattr(wrapper, WRAPPED, original)
    setattr(owner, name, wrapper)
    inst.patches.append((owner, name, saved))
    return True


def split_model(model: Any, prefixed: bool) -> tuple[str | None, str | None]:
    """(model, provider) of a request's model argument; ``anthropic/claude-x`` names both when prefixed."""
    if not isinstance(model, str):
        return None, None
    if prefixed and "/" in model:
        provider, _, name = model.partition("/")
        return name, provider
    return model, None


class CallRecorder:
    """One instrumented call: request facts in, a CallState out to the tracker."""

    __slots__ = ("ask_usage", "inst", "model", "op", "provider", "start", "unmetered")

    def __init__(self, inst: Instrumentation, op: Operation, kwargs: dict[str, Any]) -> None:
        self.inst = inst
        self.op = op
        self.model, self.provider = split_model(kwargs.get("model"), op.model_prefix)
        if self.provider is None:
            self.provider = op.provider
        self.unmetered: str | None = None
        self.ask_usage = False
        self.start = inst.clock()

    def prepare(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        """The request to send: an OpenAI-style stream asks for its usage unless the caller said no."""
        if not (self.op.ask_stream_usage and kwargs.get("stream") is True):
            return kwargs
        options = kwargs.get("stream_options")
        if isinstance(options, dict):
            if "include_usage" in options:
                if options["include_usage"] is not True:
                    self.unmetered = "usage_not_requested"
                return kwargs
            self.ask_usage = True
            return {**kwargs, "stream_options": {**options, "include_usage": True}}
        if options is None or type(options).__name__ in ("NotGiven", "Omit"):
            self.ask_usage = True
            return {**kwargs, "stream_options": {"include_usage": True}}
        return kwargs

    def _track(self) -> Track:
        return self.inst.track(self.op.operation, self.provider)

    def failed(self, exc: BaseException) -> None:
        try:
            track = self._track()
            outcome, error_type = classify(exc)
            from .._series import CallState

            state = CallState(outcome=outcome, error_type=error_type, model=self.model)
            track.record_state(self.inst.clock() - self.start, state)
        except Exception as own:
            self.inst.tracker.health.error("record", own)

    def returned(self, response: Any, unmetered: str | None = None) -> None:
        """A complete response: usage, refusal and model are read from it at fold time."""
        try:
            from .._series import CallState

            state = CallState(response=response, model=self.model, unmetered=unmetered or self.unmetered)
            self._track().record_state(self.inst.clock() - self.start, state)
        except Exception as exc:
            self.inst.tracker.health.error("record", exc)

    def stream(self) -> Stream:
        """A stream timer started when the request was, for chunks that arrive later."""
        stream = Stream(self._track())
        stream.start = self.start
        stream.state.model = self.model
        return stream


def hidden_usage_chunk(chunk: Any) -> bool:
    """The usage-only chunk an OpenAI-style stream sends last when asked (no choices)."""
    try:
        return not chunk.choices and chunk.usage is not None
    except Exception:
        return False


def end_stream(recorder: CallRecorder, stream: Stream, exc: BaseException | None, complete: bool) -> None:
    """Record a stream that ended, failed or was abandoned; a missing usage is said why."""
    try:
        state = stream.state
        if state.usage is None and state.unmetered is None:
            state.unmetered = recorder.unmetered or ("no_usage" if complete else "stream_incomplete")
        stream.done(exc)
    except Exception as own:
        recorder.inst.tracker.health.error("stream", own)


def take_usage(stream: Stream, chunk: Any) -> None:
    try:
        usage = usage_of_chunk(chunk)
        if usage is not None:
            stream.state.usage = usage
    except Exception as exc:
        stream.track.tracker.health.error("usage", exc)


def chat_chunk_refused(chunk: Any) -> bool:
    """``chunk_refused`` for an OpenAI chat chunk with choices, by direct attribute reads (a third of the time)."""
    try:
        first = chunk.choices[0]
        return bool(first.delta.refusal) or first.finish_reason == "content_filter"
    except Exception:  # a chunk that does not have this shape after all
        return chunk_refused(chunk)


def record_chunk(stream: Stream, chunk: Any) -> None:
    """``stream.chunk(chunk)``, reading an OpenAI chat chunk only where that shape keeps usage and refusals.

    ``stream.chunk`` also looks for usage on ``chunk.message`` and ``chunk.response``
    (Anthropic's and the Responses API's places): on the client's pydantic chunk each
    absent attribute is an AttributeError raised and caught, ~3 µs, most of what a
    stream cost. Any other chunk, or one whose attributes raise, takes ``stream.chunk``.
    """
    if type(chunk).__name__ != "ChatCompletionChunk":
        stream.chunk(chunk)
        return
    try:
        has_usage, has_choices = chunk.usage is not None, bool(chunk.choices)
    except Exception:
        stream.chunk(chunk)
        return
    stream.chunk(None)  # the timing alone: None has nothing to read
    try:
        state = stream.state
        if has_usage:
            usage = usage_of_chunk(chunk)
            if usage is not None:
                if state.usage is None:
                    state.usage = usage
                else:
                    state.usage.merge_max(usage)
        if has_choices and not state.refused and chat_chunk_refused(chunk):
            state.refused = True
        if state.model is None and stream.track.model is None:
            state.model = chunk_model(chunk)
    except Exception as exc:
        stream.track.tracker.health.error("stream", exc)


def measured(iterator: Iterator[Any], recorder: CallRecorder) -> Iterator[Any]:
    """Yield the stream's chunks unchanged, timing each; the usage chunk we asked for is kept back."""
    stream = recorder.stream()
    hide = recorder.ask_usage
    complete = False
    error: BaseException | None = None
    try:
        for chunk in iterator:
            if hide and hidden_usage_chunk(chunk):
                take_usage(stream, chunk)
                continue
            record_chunk(stream, chunk)
            yield chunk
        complete = True
    except BaseException as exc:
        error = exc
        raise
    finally:
        end_stream(recorder, stream, error, complete)


async def measured_async(iterator: AsyncIterator[Any], recorder: CallRecorder) -> AsyncIterator[Any]:
    """``measured`` for async streams."""
    stream = recorder.stream()
    hide = recorder.ask_usage
    complete = False
    error: BaseException | None = None
    try:
        async for chunk in iterator:
            if hide and hidden_usage_chunk(chunk):
                take_usage(stream, chunk)
                continue
            record_chunk(stream, chunk)
            yield chunk
        complete = True
    except BaseException as exc:
        error = exc
        raise
    finally:
        end_stream(recorder, stream, error, complete)


def measure_sdk_stream(stream: Any, recorder: CallRecorder, is_async: bool) -> bool:
    """Measure an OpenAI or Anthropic ``Stream`` in place: same object, its iterator wrapped.

    Both clients' streams read every chunk through ``self._iterator``; a client
    whose stream does not is left alone (False) and the call counted as unreadable.
    """
    try:
        iterator = getattr(stream, "_iterator", None)  # an attribute, or a cached_property made on first use
        if iterator is None:
            return False
        stream._iterator = measured_async(iterator, recorder) if is_async else measured(iterator, recorder)
        return True
    except Exception:
        return False


def is_raw_response(result: Any) -> bool:
    """A ``with_raw_response`` result: the parsed object is behind ``parse()``."""
    return hasattr(result, "http_response") and hasattr(result, "parse")
