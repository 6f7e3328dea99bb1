"""aivitals.instrument() on the real LiteLLM, against a fake server on 127.0.0.1 (the only fake).

LiteLLM is imported with its bundled price map (``LITELLM_LOCAL_MODEL_COST_MAP``): nothing downloads.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from typing import Any

import pytest

import aivitals
from _instrument_server import CACHED, COMPLETION, PROMPT, WRITTEN, FakeLLMServer
from aivitals.pricing import shipped
from aivitals.usage import Usage
from conftest import sample

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
litellm = pytest.importorskip("litellm")
MESSAGES = [{"role": "user", "content": "Capital of France?"}]


@pytest.fixture(scope="module")
def server() -> Iterator[FakeLLMServer]:
    found = FakeLLMServer()
    yield found
    found.stop()


@pytest.fixture
def instrumented(tracker: aivitals.Tracker) -> Iterator[aivitals.Tracker]:
    tracker.instrument(litellm)
    yield tracker
    aivitals.uninstrument()


def openai_args(server: FakeLLMServer) -> dict[str, Any]:
    return {"model": "openai/gpt-4o-mini", "api_base": server.url + "/v1", "api_key": "test"}


def anthropic_args(server: FakeLLMServer) -> dict[str, Any]:
    return {"model": "anthropic/claude-haiku-4-5", "api_base": server.url, "api_key": "test", "max_tokens": 64}


def cost(model: str, usage: Usage) -> float:
    price = shipped().get(model)
    assert price is not None
    return sum(price.token_cost(usage))


def test_completion_in_front_of_anthropic_prices_cache_writes_as_writes(instrumented, registry, server):
    litellm.completion(messages=[{"role": "user", "content": "CACHEWRITE"}], **anthropic_args(server))
    model = "claude-haiku-4-5"
    assert sample(registry, "aivitals_requests_total", model=model, provider="anthropic", outcome="ok") == 1
    assert sample(registry, "aivitals_tokens_total", model=model, token_type="input") == PROMPT
    assert sample(registry, "aivitals_tokens_total", model=model, token_type="cache_creation") == WRITTEN
    assert sample(registry, "aivitals_tokens_total", model=model, token_type="cached_input") == CACHED
    assert sample(registry, "aivitals_cost_usd_total", model=model) == pytest.approx(
        cost(model, Usage(PROMPT, COMPLETION, CACHED, WRITTEN)))


def test_a_stream_with_defaults_is_measured_once_and_indexes_choices_on_every_chunk(instrumented, registry, server):
    stream = litellm.completion(messages=MESSAGES, stream=True, **openai_args(server))
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream)
    assert text == "Paris."
    assert sample(registry, "aivitals_requests_total") == 1  # the OpenAI client underneath is not counted again
    assert sample(registry, "aivitals_tokens_total", model="gpt-4o-mini", token_type="input") == PROMPT


def test_acompletion_and_embedding_are_measured(instrumented, registry, server):
    asyncio.run(litellm.acompletion(messages=MESSAGES, **openai_args(server)))
    litellm.embedding(model="openai/text-embedding-3-small", input=["hello"], api_base=server.url + "/v1",
                      api_key="test")
    assert sample(registry, "aivitals_requests_total", model="gpt-4o-mini", provider="openai") == 1
    assert sample(registry, "aivitals_requests_total", model="text-embedding-3-small", operation="embeddings") == 1


def test_uninstrument_restores_litellms_functions(tracker):
    originals = (litellm.completion, litellm.acompletion, litellm.embedding)
    tracker.instrument(litellm)
    tracker.instrument(litellm)
    assert litellm.completion is not originals[0]
    aivitals.uninstrument()
    assert all(a is b for a, b in zip(originals, (litellm.completion, litellm.acompletion, litellm.embedding),
                                      strict=True))
