"""Token usage read from the response shapes users actually get."""

from __future__ import annotations

from types import SimpleNamespace as NS

import pytest

from aivitals.usage import Usage, UsageError, read_response, usage_of_chunk, usage_of_response
from conftest import openai_chat, sample


def test_openai_chat_completion_object_with_cached_and_reasoning_tokens():
    response = NS(model="o4-mini", choices=[NS(message=NS(refusal=None))],
                  usage=NS(prompt_tokens=2000, completion_tokens=900,
                           prompt_tokens_details=NS(cached_tokens=1536, audio_tokens=0),
                           completion_tokens_details=NS(reasoning_tokens=640)))
    assert usage_of_response(response) == Usage(2000, 900, 1536, 0, 640)
    assert read_response(response) == ((2000, 900, 1536, 0, 640), False)


def test_openai_chat_completion_dict_is_read_the_same_as_the_object():
    as_dict = openai_chat(prompt=2000, completion=900, cached=1536, reasoning=640)
    assert read_response(as_dict) == ((2000, 900, 1536, 0, 640), False)
    assert usage_of_response(as_dict) == Usage(2000, 900, 1536, 0, 640)


def test_openai_responses_api_object():
    response = NS(object="response", output=[NS(type="message", content=[NS(type="output_text")])],
                  usage=NS(input_tokens=500, output_tokens=120, total_tokens=620,
                           input_tokens_details=NS(cached_tokens=256),
                           output_tokens_details=NS(reasoning_tokens=64)))
    assert read_response(response) == ((500, 120, 256, 0, 64), False)


def test_openai_responses_api_refusal_part_is_a_refusal():
    response = {"object": "response", "output": [{"type": "message", "content": [{"type": "refusal"}]}],
                "usage": {"input_tokens": 5, "output_tokens": 3}}
    assert read_response(response) == ((5, 3, 0, 0, 0), True)


def test_anthropic_message_adds_cache_reads_and_writes_to_input():
    message = NS(type="message", stop_reason="end_turn",
                 usage=NS(input_tokens=40, output_tokens=10, cache_read_input_tokens=900,
                          cache_creation_input_tokens=60))
    assert usage_of_response(message) == Usage(1000, 10, 900, 60, 0)


def test_anthropic_message_with_null_cache_fields():
    message = {"type": "message", "usage": {"input_tokens": 40, "output_tokens": 10,
                                            "cache_read_input_tokens": None, "cache_creation_input_tokens": None}}
    assert usage_of_response(message) == Usage(40, 10, 0, 0, 0)


def test_stream_chunks_carry_usage_in_their_own_places():
    assert usage_of_chunk({"choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 4}}) == Usage(9, 4)
    assert usage_of_chunk({"choices": [{"delta": {}}], "usage": None}) is None
    completed = NS(type="response.completed", response=NS(usage=NS(input_tokens=8, output_tokens=2)))
    assert usage_of_chunk(completed) == Usage(8, 2)
    start = {"type": "message_start", "message": {"usage": {"input_tokens": 3, "output_tokens": 1,
                                                            "cache_read_input_tokens": 0}}}
    assert usage_of_chunk(start) == Usage(3, 1)


def test_plain_dicts_and_no_usage():
    assert usage_of_response({"usage": {"input_tokens": 3, "output_tokens": 4}}) == Usage(3, 4)
    assert read_response("just text") is None
    assert read_response({"answer": 42}) == (None, False)


@pytest.mark.parametrize("bad", [float("nan"), -1, "12", 1.5, float("inf")])
def test_a_token_count_that_is_not_a_whole_non_negative_number_is_rejected(bad):
    with pytest.raises(UsageError):
        usage_of_response({"usage": {"prompt_tokens": bad, "completion_tokens": 1}})


def test_a_part_larger_than_its_total_is_rejected():
    with pytest.raises(UsageError):
        Usage.of(input=10, cached_input=11)


def test_a_custom_extractor_replaces_the_built_in_one(tracker, registry):
    ask = tracker.track(model="gpt-4o", usage=lambda r: Usage.of(input=r["in"], output=r["out"]))(
        lambda: {"in": 7, "out": 3})
    ask()
    assert sample(registry, "aivitals_tokens_total", token_type="input") == 7
    assert sample(registry, "aivitals_tokens_total", token_type="output") == 3
