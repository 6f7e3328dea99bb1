"""Stream measurement: each chunk timed and read, the usage chunk aivitals asked for kept back, the end recorded once.

The OpenAI and Anthropic clients build every stream chunk from its JSON through
their client's ``_process_response_data``. A stream aivitals measures is given
a stand-in for that client (``ChunkReader``) which times and reads each chunk's
dict first, in one call: a handful of dict lookups, where reading the built
object costs attribute misses. The usage-only chunk aivitals asked for is never
built at all (building it cost the client ~23 µs, most of what a default stream
cost); it is kept whole and read once, at fold time, as a complete response is.
Chunks the reader did not see (LiteLLM's, a client laid out otherwise) are
timed and read as the built objects.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from ..usage import Usage, chunk_model, chunk_refused, usage_from, usage_of_chunk
from ._core import CallRecorder

#: What the client stand-in returns for the usage chunk it kept back: skipped, never given to the caller.
_HIDDEN = object()


class StreamMeasure:
    """One measured stream: its Stream timer and state, and the last chunk built from JSON it read."""

    __slots__ = ("built", "ended", "hide", "recorder", "state", "stream", "unnamed")

    def __init__(self, recorder: CallRecorder) -> None:
        self.recorder = recorder
        stream = self.stream = recorder.stream()
        self.state = stream.state
        self.hide = recorder.ask_usage  # the usage chunk is ours: the caller did not ask for it
        self.unnamed = stream.state.model is None and stream.track.model is None  # the chunks name the model
        self.built: Any = _HIDDEN  # the chunk the client built from the JSON read last (none yet)
        self.ended = False

    def chunk(self, chunk: Any) -> bool:
        """Time and read a chunk the reader did not see (LiteLLM's; a client laid out otherwise), as the built object.

        False: the usage chunk kept from the caller.
        """
        if chunk is _HIDDEN:
            return False
        if self.hide and hidden_usage_chunk(chunk):
            self._take_usage(usage_of_chunk, chunk)
            return False
        self.stream.chunk(chunk)
        return True

    def read_json(self, data: dict[str, Any]) -> bool:
        """Time and read one chunk's JSON as it arrives, before it is built; False: the usage chunk to keep back.

        The work of every chunk of a stream, so it reads only what can change from
        chunk to chunk (usage where a chunk carries it, the refusal marks, the model
        until one is named), in this one call.
        """
        try:
            state = self.state
            usage = data.get("usage")
            choices = data.get("choices")
            if usage is not None:
                if choices == []:  # OpenAI's last chunk: read at fold time, as a complete response is
                    state.response = data
                    if self.hide:
                        return False
                else:
                    self._take_usage(usage_from, usage)
            elif choices is None:  # Anthropic's and the Responses API's events carry it one level down
                self._take_usage(usage_of_chunk, data)
            if not state.refused:
                first: Any = choices[0] if choices and type(choices) is list else None
                delta = first.get("delta") if type(first) is dict else None
                if type(delta) is dict:  # an OpenAI chat chunk: chunk_refused's rule, read off the dicts
                    state.refused = bool(delta.get("refusal")) or first.get("finish_reason") == "content_filter"
                else:
                    state.refused = chunk_refused(data)
            if self.unnamed:
                state.model = chunk_model(data)
                self.unnamed = state.model is None
            stream = self.stream  # Stream.chunk's timing, one call fewer on every chunk
            stream.last = now = stream.clock()
            if stream.first is None:
                stream.first = now
            stream.chunks += 1
        except Exception as exc:
            self.stream.track.tracker.health.error("stream", exc)
        return True

    def _take_usage(self, read: Callable[[Any], Usage | None], value: Any) -> None:
        """Fold one usage report into the stream's (stream reports are cumulative); a bad one is counted."""
        try:
            usage = read(value)
            if usage is not None:
                state = self.stream.state
                if state.usage is None:
                    state.usage = usage
                else:
                    state.usage.merge_max(usage)
        except Exception as exc:
            self.stream.track.tracker.health.error("usage", exc)

    def end(self, exc: BaseException | None) -> None:
        """Record the stream once: ended (``exc`` None, or the iterator's Stop), failed or abandoned."""
        if self.ended:
            return
        self.ended = True
        if isinstance(exc, (StopIteration, StopAsyncIteration)):
            exc = None
        try:
            state = self.stream.state
            if state.usage is None and state.response is None and state.unmetered is None:
                state.unmetered = self.recorder.unmetered or ("no_usage" if exc is None else "stream_incomplete")
            self.stream.done(exc)
        except Exception as own:
            self.recorder.inst.tracker.health.error("stream", own)


def hidden_usage_chunk(chunk: Any) -> bool:
    """The usage-only chunk an OpenAI-style stream sends last when asked (no choices), as a built object."""
    try:
        return not chunk.choices and chunk.usage is not None
    except Exception:
        return False


class ChunkReader:
    """A client as its own stream sees it: each chunk's JSON goes to ``measure.read_json`` before it is built.

    The chunk built from it is kept as ``measure.built``, so the stream's iterator
    knows it for one already read. Everything else the stream asks of its client
    is the client's own (``__getattr__``).
    """

    __slots__ = ("_aivitals_client", "_process_response_data")

    def __init__(self, client: Any, measure: StreamMeasure) -> None:
        self._aivitals_client = client
        build = client._process_response_data

        def process(*args: Any, **kwargs: Any) -> Any:
            data = kwargs.get("data")
            if type(data) is not dict:
                return build(*args, **kwargs)
            if not measure.read_json(data):
                return _HIDDEN
            built = measure.built = build(*args, **kwargs)
            return built

        self._process_response_data = process

    def __getattr__(self, name: str) -> Any:
        return getattr(self._aivitals_client, name)


def measured(iterator: Iterator[Any], measure: StreamMeasure) -> Iterator[Any]:
    """Yield the stream's chunks unchanged, timing each; the usage chunk we asked for is kept back."""
    try:
        for chunk in iterator:
            if chunk is measure.built or measure.chunk(chunk):  # read as JSON already, or read now
                yield chunk
    except BaseException as exc:  # a failure, or GeneratorExit: the caller let the stream go
        measure.end(exc)
        raise
    measure.end(None)


async def measured_async(iterator: AsyncIterator[Any], measure: StreamMeasure) -> AsyncIterator[Any]:
    """``measured`` for async streams."""
    try:
        async for chunk in iterator:
            if chunk is measure.built or measure.chunk(chunk):
                yield chunk
    except BaseException as exc:
        measure.end(exc)
        raise
    measure.end(None)


def measure_sdk_stream(stream: Any, recorder: CallRecorder, is_async: bool) -> None:
    """Measure an OpenAI or Anthropic ``Stream`` in place: the same object, its iterator wrapped.

    Both clients' streams read every chunk through ``self._iterator`` and build it
    through ``self._client``. The reader goes in first: Anthropic's ``_iterator`` is
    made on first use, on a copy of the stream. A stream without ``_iterator`` is
    left as it was and the call counted as unreadable.
    """
    client = getattr(stream, "_client", None)
    try:
        measure = StreamMeasure(recorder)
        if callable(getattr(client, "_process_response_data", None)):
            stream._client = ChunkReader(client, measure)
        iterator = getattr(stream, "_iterator", None)  # an attribute, or a cached_property made on first use
        if iterator is not None:
            stream._iterator = measured_async(iterator, measure) if is_async else measured(iterator, measure)
            return
    except Exception:  # a stream laid out otherwise: not measured, never broken
        pass
    try:
        if client is not None and stream._client is not client:
            stream._client = client
    except Exception as exc:
        recorder.inst.tracker.health.error("stream", exc)
    recorder.returned(None, "unreadable")
