"""aivitals.instrument() on the real OpenAI client, against a fake server on 127.0.0.1 (the only fake)."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from typing import Any

import pytest

import aivitals
from _instrument_server import CACHED, COMPLETION, PROMPT, REASONING, WRITTEN, FakeLLMServer
from aivitals.pricing import shipped
from aivitals.usage import Usage
from conftest import sample

openai = pytest.importorskip("openai")
MESSAGES = [{"role": "user", "content": "Capital of France?"}]


@pytest.fixture(scope="module")
def server() -> Iterator[FakeLLMServer]:
    found = FakeLLMServer()
    yield found
    found.stop()


@pytest.fixture
def client(server: FakeLLMServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key="test", max_retries=0)


@pytest.fixture
def aclient(server: FakeLLMServer) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=server.url + "/v1", api_key="test", max_retries=0)


@pytest.fixture
def instrumented(tracker: aivitals.Tracker) -> Iterator[aivitals.Tracker]:
    tracker.instrument(openai)
    yield tracker
    aivitals.uninstrument()


def cost(registry: Any, model: str = "gpt-4o-mini") -> float:
    return sample(registry, "aivitals_cost_usd_total", model=model) or 0.0


def expected_cost(usage: Usage, model: str = "gpt-4o-mini") -> float:
    price = shipped().get(model)
    assert price is not None
    return sum(price.token_cost(usage))


def tokens(registry: Any, kind: str, model: str = "gpt-4o-mini") -> float | None:
    return sample(registry, "aivitals_tokens_total", model=model, token_type=kind)


def test_a_plain_completion_counts_tokens_cost_and_its_model(instrumented, registry, client):
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert sample(registry, "aivitals_requests_total", model="gpt-4o-mini", operation="chat",
                  provider="openai", outcome="ok") == 1
    assert tokens(registry, "input") == PROMPT and tokens(registry, "output") == COMPLETION
    assert cost(registry) == pytest.approx(expected_cost(Usage(PROMPT, COMPLETION)))


def test_a_stream_with_the_clients_defaults_asks_for_usage_and_hides_the_extra_chunk(
        instrumented, registry, client, server):
    stream = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream)  # choices[0] on every chunk
    assert text == "Paris."
    assert server.requests[-1][1]["stream_options"] == {"include_usage": True}
    assert tokens(registry, "input") == PROMPT and tokens(registry, "output") == COMPLETION
    assert cost(registry) == pytest.approx(expected_cost(Usage(PROMPT, COMPLETION)))
    assert sample(registry, "aivitals_time_to_first_chunk_seconds_count", model="gpt-4o-mini") == 1


def test_a_stream_that_asked_for_usage_itself_yields_its_usage_chunk(instrumented, registry, client):
    stream = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True,
                                            stream_options={"include_usage": True})
    chunks = list(stream)
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert tokens(registry, "input") == PROMPT


def test_a_stream_with_usage_turned_off_is_counted_unmetered_not_free(instrumented, registry, client):
    stream = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True,
                                            stream_options={"include_usage": False})
    list(stream)
    assert tokens(registry, "input") is None
    assert sample(registry, "aivitals_unmetered_requests_total", model="gpt-4o-mini",
                  unmetered_reason="usage_not_requested") == 1


def test_a_stream_returned_from_a_plain_function_is_measured_when_it_is_read(instrumented, registry, client):
    def ask() -> Any:
        return client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)

    stream = ask()
    assert isinstance(stream, openai.Stream)
    assert sample(registry, "aivitals_requests_total") is None  # not yet ended: it ends with its last chunk
    for _ in stream:
        pass
    assert tokens(registry, "output") == COMPLETION


def test_an_abandoned_stream_is_counted_cancelled_and_unmetered(instrumented, registry, client):
    stream = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    next(iter(stream))
    stream.close()
    del stream
    gc.collect()
    assert sample(registry, "aivitals_requests_total", outcome="cancelled") == 1
    assert sample(registry, "aivitals_unmetered_requests_total", unmetered_reason="stream_incomplete") == 1


def test_a_stream_that_breaks_midway_raises_the_clients_error_and_is_counted(instrumented, registry, client):
    stream = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "FAILMIDWAY"}],
                                            stream=True)
    with pytest.raises(Exception) as raised:
        list(stream)
    assert not type(raised.value).__module__.startswith("aivitals")
    assert sample(registry, "aivitals_requests_total", outcome="error") == 1
    assert sample(registry, "aivitals_unmetered_requests_total", unmetered_reason="stream_incomplete") == 1


def test_the_stream_helper_events_are_measured_and_unchanged(instrumented, registry, client):
    with client.chat.completions.stream(model="gpt-4o-mini", messages=MESSAGES) as stream:
        kinds = [event.type for event in stream]
    assert kinds.count("chunk") == 5  # the usage chunk aivitals asked for is not one of them
    assert tokens(registry, "input") == PROMPT
    assert cost(registry) == pytest.approx(expected_cost(Usage(PROMPT, COMPLETION)))


def test_with_raw_response_reads_usage_through_the_cached_parse(instrumented, registry, client):
    raw = client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=MESSAGES)
    assert raw.parse().choices[0].message.content == "Paris."
    assert tokens(registry, "input") == PROMPT


def test_streamed_refusals_are_counted_refused(instrumented, registry, client):
    stream = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "REFUSE"}],
                                            stream=True)
    list(stream)
    assert sample(registry, "aivitals_requests_total", outcome="refused") == 1


def test_cache_writes_and_reasoning_are_read_and_priced(instrumented, registry, client):
    client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "CACHEWRITE THINK"}])
    assert tokens(registry, "cached_input") == CACHED and tokens(registry, "cache_creation") == WRITTEN
    assert tokens(registry, "reasoning") == REASONING
    assert cost(registry) == pytest.approx(expected_cost(Usage(PROMPT, COMPLETION, CACHED, WRITTEN, REASONING)))


def test_responses_and_embeddings_are_measured(instrumented, registry, client):
    client.responses.create(model="gpt-4o-mini", input="Capital of France?")
    for _ in client.responses.create(model="gpt-4o-mini", input="CACHEWRITE", stream=True):
        pass
    client.embeddings.create(model="text-embedding-3-small", input="hello")
    assert sample(registry, "aivitals_requests_total", model="gpt-4o-mini", operation="chat") == 2
    assert tokens(registry, "input") == 2 * PROMPT and tokens(registry, "cache_creation") == WRITTEN
    assert sample(registry, "aivitals_requests_total", model="text-embedding-3-small", operation="embeddings") == 1
    assert tokens(registry, "input", model="text-embedding-3-small") == 8


def test_async_create_and_streams_are_measured(instrumented, registry, aclient):
    async def run() -> str:
        await aclient.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        stream = await aclient.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
        return "".join([chunk.choices[0].delta.content or "" async for chunk in stream])

    assert asyncio.run(run()) == "Paris."
    assert sample(registry, "aivitals_requests_total", model="gpt-4o-mini", outcome="ok") == 2
    assert tokens(registry, "input") == 2 * PROMPT


def test_a_request_the_client_rejects_raises_unchanged_and_is_counted(instrumented, registry, client):
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="rejected", messages=MESSAGES)
    with pytest.raises(TypeError):
        client.chat.completions.create(messages=MESSAGES)  # the client's own argument check
    assert sample(registry, "aivitals_requests_total", outcome="error") == 2
    assert sample(registry, "aivitals_request_errors_total", error_type="BadRequestError") == 1
    assert sample(registry, "aivitals_request_errors_total", error_type="TypeError") == 1


def test_instrumenting_twice_patches_once_and_uninstrument_restores_the_originals(tracker, registry, client):
    completions = openai.resources.chat.completions.completions
    originals = (completions.Completions.create, completions.AsyncCompletions.create,
                 openai.resources.embeddings.Embeddings.create)
    tracker.instrument(openai)
    tracker.instrument(openai)
    try:
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        assert sample(registry, "aivitals_requests_total") == 1
    finally:
        aivitals.uninstrument()
    assert (completions.Completions.create, completions.AsyncCompletions.create,
            openai.resources.embeddings.Embeddings.create) == originals
    assert all(a is b for a, b in zip(originals, (completions.Completions.create, completions.AsyncCompletions.create,
                                                  openai.resources.embeddings.Embeddings.create), strict=True))
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert sample(registry, "aivitals_requests_total") == 1


def test_one_client_object_can_be_instrumented_alone(tracker, registry, server, client):
    other = openai.OpenAI(base_url=server.url + "/v1", api_key="test", max_retries=0)
    assert tracker.instrument(client)
    try:
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        other.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        assert sample(registry, "aivitals_requests_total") == 1
    finally:
        aivitals.uninstrument()
    assert "create" not in vars(client.chat.completions)


def test_a_decorated_function_returning_an_unread_stream_is_unmetered_not_free(tracker, registry, client):
    @tracker.track(model="gpt-4o-mini")
    def ask() -> Any:
        return client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)

    list(ask())
    assert sample(registry, "aivitals_unmetered_requests_total", unmetered_reason="stream_not_consumed") == 1


def test_a_decorated_generator_without_a_model_takes_the_model_from_the_chunks(tracker, registry, client):
    @tracker.track()
    def ask() -> Any:
        yield from client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True,
                                                  stream_options={"include_usage": True})

    list(ask())
    assert sample(registry, "aivitals_requests_total", model="gpt-4o-mini") == 1
    assert cost(registry) == pytest.approx(expected_cost(Usage(PROMPT, COMPLETION)))


def test_a_decorated_generator_sees_streamed_refusals(tracker, registry, client):
    @tracker.track(model="gpt-4o-mini")
    def ask() -> Any:
        yield from client.chat.completions.create(model="gpt-4o-mini", stream=True,
                                                  messages=[{"role": "user", "content": "REFUSE"}])

    list(ask())
    assert sample(registry, "aivitals_requests_total", outcome="refused") == 1


@pytest.fixture(params=["json", "objects"])
def chunks_read_as(request: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """Streams read as each chunk's JSON (the client stand-in), or as the built chunks (a client laid out otherwise)."""
    if request.param == "objects":
        from aivitals.instrument import _stream

        monkeypatch.setattr(_stream, "ChunkReader", lambda client, measure: client)
    return str(request.param)


def test_a_default_stream_counts_every_token_kind_and_refusals_either_way_it_is_read(
        chunks_read_as, instrumented, registry, client):
    stream = client.chat.completions.create(model="gpt-4o-mini", stream=True,
                                            messages=[{"role": "user", "content": "CACHEWRITE THINK"}])
    chunks = list(stream)
    assert len(chunks) == 5 and all(chunk.choices for chunk in chunks)  # the usage chunk is kept back
    assert [tokens(registry, kind) for kind in ("input", "output", "cached_input", "cache_creation", "reasoning")] == [
        PROMPT, COMPLETION, CACHED, WRITTEN, REASONING]
    assert cost(registry) == pytest.approx(expected_cost(Usage(PROMPT, COMPLETION, CACHED, WRITTEN, REASONING)))
    list(client.chat.completions.create(model="gpt-4o-mini", stream=True,
                                        messages=[{"role": "user", "content": "REFUSE"}]))
    assert sample(registry, "aivitals_requests_total", outcome="refused") == 1
    assert sample(registry, "aivitals_requests_total", outcome="ok") == 1
    assert sample(registry, "aivitals_time_to_first_chunk_seconds_count", model="gpt-4o-mini") == 2


def test_the_usage_chunk_aivitals_asks_for_is_never_built_by_the_client(instrumented, registry, client, server):
    built: list[Any] = []
    build = client._process_response_data

    def counting(*args: Any, **kwargs: Any) -> Any:
        built.append(kwargs.get("data"))
        return build(*args, **kwargs)

    client._process_response_data = counting  # the client's own builder, watched on this one client
    list(client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True))
    assert len(built) == 5 and all(data["choices"] for data in built)
    assert server.requests[-1][1]["stream_options"] == {"include_usage": True}
    assert tokens(registry, "input") == PROMPT
    list(client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True,
                                        stream_options={"include_usage": True}))
    assert len(built) == 11, "a usage chunk the caller asked for is built and given to the caller"


def test_the_callers_own_extra_body_is_sent_with_the_usage_request(instrumented, registry, client, server):
    list(client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True,
                                        extra_body={"user_tag": "kept"}))
    body = server.requests[-1][1]
    assert body["user_tag"] == "kept" and body["stream_options"] == {"include_usage": True}
    assert tokens(registry, "input") == PROMPT


def test_models_past_the_track_cap_are_still_counted_under_their_own_model(
        monkeypatch: pytest.MonkeyPatch, instrumented, registry, client):
    from aivitals.instrument import _core

    monkeypatch.setattr(_core, "MAX_TRACKS", 1)  # the first model gets a Track; the next go through the model-less one
    for model in ("gpt-4o-mini", "gpt-4o", "gpt-4o"):
        list(client.chat.completions.create(model=model, messages=MESSAGES, stream=True))
    client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert sample(registry, "aivitals_requests_total", model="gpt-4o-mini") == 1
    assert sample(registry, "aivitals_requests_total", model="gpt-4o") == 3
    assert tokens(registry, "input", model="gpt-4o") == 3 * PROMPT
