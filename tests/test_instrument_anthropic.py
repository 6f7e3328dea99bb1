"""aivitals.instrument() on the real Anthropic client, against a fake server on 127.0.0.1 (the only fake)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

import aivitals
from _instrument_server import CACHED, COMPLETION, PROMPT, REASONING, WRITTEN, FakeLLMServer
from aivitals.pricing import shipped
from aivitals.usage import Usage
from conftest import sample

anthropic = pytest.importorskip("anthropic")
MODEL = "claude-haiku-4-5"
MESSAGES = [{"role": "user", "content": "Capital of France?"}]


@pytest.fixture(scope="module")
def server() -> Iterator[FakeLLMServer]:
    found = FakeLLMServer()
    yield found
    found.stop()


@pytest.fixture
def client(server: FakeLLMServer) -> Any:
    return anthropic.Anthropic(base_url=server.url, api_key="test", max_retries=0)


@pytest.fixture
def instrumented(tracker: aivitals.Tracker) -> Iterator[aivitals.Tracker]:
    tracker.instrument(anthropic)
    yield tracker
    aivitals.uninstrument()


def tokens(registry: Any, kind: str) -> float | None:
    return sample(registry, "aivitals_tokens_total", model=MODEL, token_type=kind)


def expected_cost(usage: Usage) -> float:
    price = shipped().get(MODEL)
    assert price is not None
    return sum(price.token_cost(usage))


def test_a_message_counts_cache_reads_writes_and_thinking_tokens(instrumented, registry, client):
    client.messages.create(model=MODEL, max_tokens=64, messages=[{"role": "user", "content": "CACHEWRITE THINK"}])
    assert sample(registry, "aivitals_requests_total", model=MODEL, provider="anthropic", outcome="ok") == 1
    assert tokens(registry, "input") == PROMPT and tokens(registry, "output") == COMPLETION
    assert tokens(registry, "cached_input") == CACHED and tokens(registry, "cache_creation") == WRITTEN
    assert tokens(registry, "reasoning") == REASONING
    assert sample(registry, "aivitals_cost_usd_total", model=MODEL) == pytest.approx(
        expected_cost(Usage(PROMPT, COMPLETION, CACHED, WRITTEN, REASONING)))


def test_the_text_stream_helper_is_measured_from_the_raw_events(instrumented, registry, client):
    with client.messages.stream(model=MODEL, max_tokens=64, messages=MESSAGES) as stream:
        text = "".join(stream.text_stream)
    assert text == "Paris."
    assert tokens(registry, "input") == PROMPT and tokens(registry, "output") == COMPLETION
    assert sample(registry, "aivitals_time_to_first_chunk_seconds_count", model=MODEL) == 1


def test_create_with_stream_true_is_measured_and_streamed_refusals_count_refused(instrumented, registry, client):
    for _ in client.messages.create(model=MODEL, max_tokens=64, stream=True,
                                    messages=[{"role": "user", "content": "REFUSE"}]):
        pass
    assert sample(registry, "aivitals_requests_total", model=MODEL, outcome="refused") == 1
    assert tokens(registry, "output") == COMPLETION


def test_a_stream_that_breaks_midway_is_counted_and_its_error_reaches_the_caller(instrumented, registry, client):
    with pytest.raises(Exception) as raised, client.messages.stream(model=MODEL, max_tokens=64,
                                messages=[{"role": "user", "content": "FAILMIDWAY"}]) as stream:
        list(stream.text_stream)
    assert not type(raised.value).__module__.startswith("aivitals")
    assert sample(registry, "aivitals_requests_total", model=MODEL, outcome="error") == 1
    assert sample(registry, "aivitals_unmetered_requests_total", unmetered_reason="stream_incomplete") is None
    assert tokens(registry, "input") == PROMPT  # message_start came before the break: input is known


def test_async_create_and_stream_are_measured(instrumented, registry, server):
    async def run() -> str:
        client = anthropic.AsyncAnthropic(base_url=server.url, api_key="test", max_retries=0)
        await client.messages.create(model=MODEL, max_tokens=64, messages=MESSAGES)
        async with client.messages.stream(model=MODEL, max_tokens=64, messages=MESSAGES) as stream:
            return "".join([text async for text in stream.text_stream])

    assert asyncio.run(run()) == "Paris."
    assert sample(registry, "aivitals_requests_total", model=MODEL, outcome="ok") == 2
    assert tokens(registry, "input") == 2 * PROMPT


def test_text_fed_to_call_chunk_without_usage_is_unmetered_not_free(tracker, registry, client):
    with client.messages.stream(model=MODEL, max_tokens=64, messages=MESSAGES) as stream, \
            tracker.track(model=MODEL, provider="anthropic") as call:
        for text in stream.text_stream:
            call.chunk(text)
    assert sample(registry, "aivitals_unmetered_requests_total", model=MODEL, unmetered_reason="no_usage") == 1


def test_uninstrument_restores_the_messages_methods(tracker, registry, client):
    messages = anthropic.resources.messages.messages
    originals = (messages.Messages.create, messages.Messages.stream, messages.AsyncMessages.stream)
    tracker.instrument(anthropic)
    tracker.instrument(client)
    aivitals.uninstrument()
    assert all(a is b for a, b in zip(
        originals, (messages.Messages.create, messages.Messages.stream, messages.AsyncMessages.stream), strict=True))
    assert "create" not in vars(client.messages)
    client.messages.create(model=MODEL, max_tokens=64, messages=MESSAGES)
    assert sample(registry, "aivitals_requests_total") is None
