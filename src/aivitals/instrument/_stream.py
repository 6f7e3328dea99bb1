"""Stream measurement: each chunk timed and read, the usage chunk aivitals asked for kept back, the end recorded once.

The OpenAI and Anthropic clients build every stream chunk from its JSON through
their client's ``_process_response_data``. A stream aivitals measures is given
a stand-in for that client (``ChunkReader``) which reads each chunk's dict
first: a handful of dict lookups, where reading the built object costs
attribute misses, and the usage-only chunk aivitals asked for is never built
at all (building it was ~23 µs, most of what a default stream cost). Chunks the
reader did not see (a client laid out otherwise, LiteLLM) are read as objects.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from ..call import Stream
from ..usage import Usage, chunk_model, chunk_refused, usage_from, usage_of_chunk
from ._core import CallRecorder

#: What the client stand-in returns for the usage chunk it kept back: skipped, never given to the caller.
_HIDDEN = object()


class StreamMeasure:
    """One measured stream: its Stream timer and state, and whether its current chunk was read as JSON."""

    __slots__ = ("ended", "hide", "read_as_json", "recorder", "stream")

    def __init__(self, recorder: CallRecorder) -> None:
        self.recorder = recorder
        self.stream: Stream = recorder.stream()
        self.hide = recorder.ask_usage  # the usage chunk is ours: the caller did not ask for it
        self.read_as_json = False
        self.ended = False

    def chunk(self, chunk: Any) -> bool:
        """Time one chunk the client yields; False for the usage chunk kept from the caller."""
        if chunk is _HIDDEN:
            return False
        if self.read_as_json:  # already read, as the dict the client built this chunk from
            self.read_as_json = False
            self.stream.chunk(None)  # the timing alone
            return True
        if self.hide and hidden_usage_chunk(chunk):
            self._take_usage(usage_of_chunk, chunk)
            return False
        self.stream.chunk(chunk)
        return True

    def read_json(self, data: dict[str, Any]) -> bool:
        """Read one chunk's JSON before the client builds it; False: the usage chunk to keep back."""
        try:
            usage = data.get("usage")
            choices = data.get("choices")
            if usage is not None:
                if self.hide and choices == []:
                    self._take_usage(usage_from, usage)
                    return False
                self._take_usage(usage_from, usage)
            elif choices is None:  # Anthropic's and the Responses API's events carry it one level down
                self._take_usage(usage_of_chunk, data)
            state = self.stream.state
            if not state.refused and _refused(data, choices):
                state.refused = True
            if state.model is None and self.stream.track.model is None:
                state.model = chunk_model(data)
        except Exception as exc:
            self.stream.track.tracker.health.error("stream", exc)
        self.read_as_json = True
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
            if state.usage is None and state.unmetered is None:
                state.unmetered = self.recorder.unmetered or ("no_usage" if exc is None else "stream_incomplete")
            self.stream.done(exc)
        except Exception as own:
            self.recorder.inst.tracker.health.error("stream", own)


def _refused(data: dict[str, Any], choices: Any) -> bool:
    """``chunk_refused`` of a chunk's JSON, an OpenAI chat chunk's first choice read directly (the usual case)."""
    if choices and type(choices) is list:
        first = choices[0]
        delta = first.get("delta") if type(first) is dict else None
        if type(delta) is dict:
            return bool(delta.get("refusal")) or first.get("finish_reason") == "content_filter"
    return chunk_refused(data)


def hidden_usage_chunk(chunk: Any) -> bool:
    """The usage-only chunk an OpenAI-style stream sends last when asked (no choices), as a built object."""
    try:
        return not chunk.choices and chunk.usage is not None
    except Exception:
        return False


class ChunkReader:
    """A client as its own stream sees it: each chunk's JSON goes to ``measure.read_json`` before it is built.

    Everything else the stream asks of its client is the client's own (``__getattr__``).
    """

    __slots__ = ("_aivitals_client", "_process_response_data")

    def __init__(self, client: Any, measure: StreamMeasure) -> None:
        self._aivitals_client = client
        build = client._process_response_data

        def process(*args: Any, **kwargs: Any) -> Any:
            data = kwargs.get("data")
            if type(data) is dict and not measure.read_json(data):
                return _HIDDEN
            return build(*args, **kwargs)

        self._process_response_data = process

    def __getattr__(self, name: str) -> Any:
        return getattr(self._aivitals_client, name)


def measured(iterator: Iterator[Any], measure: StreamMeasure) -> Iterator[Any]:
    """Yield the stream's chunks unchanged, timing each; the usage chunk we asked for is kept back."""
    try:
        for chunk in iterator:
            if measure.chunk(chunk):
                yield chunk
    except BaseException as exc:  # a failure, or GeneratorExit: the caller let the stream go
        measure.end(exc)
        raise
    measure.end(None)


async def measured_async(iterator: AsyncIterator[Any], measure: StreamMeasure) -> AsyncIterator[Any]:
    """``measured`` for async streams."""
    try:
        async for chunk in iterator:
            if measure.chunk(chunk):
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
