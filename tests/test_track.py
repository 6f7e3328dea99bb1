"""@track on every kind of callable, and as a context manager: what a scrape then shows."""

from __future__ import annotations

import asyncio
import gc
import inspect
import threading

import pytest

from aivitals import Tracker
from conftest import ManualClock, openai_chat, sample

DURATION = "aivitals_request_duration_seconds"


def requests(registry, **labels):
    return sample(registry, "aivitals_requests_total", **labels)


def test_a_sync_call_is_counted_with_its_duration_tokens_and_cost(tracker, registry, clock):
    @tracker.track(model="gpt-4o-mini")
    def ask(question: str) -> dict:
        clock.advance(0.3)
        return openai_chat(prompt=1000, completion=200, cached=400)

    assert ask("why?")["usage"]["prompt_tokens"] == 1000
    labels = {"service": "checkout", "model": "gpt-4o-mini", "operation": "chat", "provider": "openai"}
    assert requests(registry, outcome="ok", **labels) == 1
    assert sample(registry, DURATION + "_sum", **labels) == pytest.approx(0.3)
    assert sample(registry, DURATION + "_bucket", le="0.32", **labels) == 1
    assert sample(registry, DURATION + "_bucket", le="0.16", **labels) == 0
    assert sample(registry, "aivitals_tokens_total", token_type="input") == 1000
    assert sample(registry, "aivitals_tokens_total", token_type="cached_input") == 400
    assert sample(registry, "aivitals_tokens_total", token_type="output") == 200
    # gpt-4o-mini: $0.15 / M input, $0.075 / M cached input, $0.60 / M output
    assert sample(registry, "aivitals_cost_usd_total", cost_kind="input") == pytest.approx(600 * 0.15e-6)
    assert sample(registry, "aivitals_cost_usd_total", cost_kind="cached_input") == pytest.approx(400 * 0.075e-6)
    assert sample(registry, "aivitals_cost_usd_total", cost_kind="output") == pytest.approx(200 * 0.60e-6)


def test_the_decorated_function_keeps_its_name_docstring_and_signature(tracker):
    def ask(question: str, *, temperature: float = 0.2) -> str:
        """Ask the model."""
        return question

    tracked = tracker.track(model="gpt-4o")(ask)
    assert tracked.__name__ == "ask"
    assert tracked.__doc__ == "Ask the model."
    assert inspect.signature(tracked) == inspect.signature(ask)
    assert tracked.__wrapped__ is ask


def test_an_exception_is_reraised_unchanged_and_counted_by_type(tracker, registry):
    class RateLimitError(Exception):
        pass

    error = RateLimitError("429")

    @tracker.track(model="gpt-4o")
    def ask():
        raise error

    with pytest.raises(RateLimitError) as raised:
        ask()
    assert raised.value is error
    assert requests(registry, outcome="error") == 1
    assert sample(registry, "aivitals_request_errors_total", error_type="RateLimitError") == 1


def test_a_timeout_is_its_own_outcome(tracker, registry):
    class APITimeoutError(Exception):
        pass

    @tracker.track(model="gpt-4o")
    def ask(kind):
        raise kind()

    for kind in (TimeoutError, APITimeoutError):
        with pytest.raises(kind):
            ask(kind)
    assert requests(registry, outcome="timeout") == 2


def test_async_calls_are_counted_and_cancellation_is_an_outcome(tracker, registry, clock):
    @tracker.track(model="gpt-4o-mini")
    async def ask():
        clock.advance(1.0)
        await asyncio.sleep(0)
        return openai_chat()

    @tracker.track(model="gpt-4o-mini")
    async def hang():
        await asyncio.sleep(3600)

    async def main():
        await ask()
        task = asyncio.ensure_future(hang())
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert requests(registry, outcome="ok") == 1
    assert requests(registry, outcome="cancelled") == 1
    assert sample(registry, DURATION + "_count") == 2


def test_a_refusal_flagged_by_the_provider_is_counted_as_refused(tracker, registry):
    ask = tracker.track(model="gpt-4o")(lambda: openai_chat(completion=0, refusal="I can't help with that."))
    ask()
    claude = tracker.track(model="claude-haiku-4-5")(lambda: {"type": "message", "stop_reason": "refusal",
                                                               "usage": {"input_tokens": 5, "output_tokens": 0}})
    claude()
    assert requests(registry, outcome="refused") == 2


def openai_stream(clock: ManualClock, chunks: int):
    for index in range(chunks):
        clock.advance(0.5 if index == 0 else 0.1)
        yield {"object": "chat.completion.chunk", "choices": [{"delta": {"content": "x"}}], "usage": None}
    yield {"object": "chat.completion.chunk", "choices": [],
           "usage": {"prompt_tokens": 50, "completion_tokens": chunks}}


def test_a_sync_stream_records_first_chunk_time_per_chunk_and_final_usage(tracker, registry, clock):
    @tracker.track(model="gpt-4o-mini")
    def stream_fn():
        yield from openai_stream(clock, 5)

    assert len(list(stream_fn())) == 6
    assert sample(registry, "aivitals_time_to_first_chunk_seconds_sum") == pytest.approx(0.5)
    # 6 chunks over 0.4 s after the first: 5 gaps, the last 0 s (the usage chunk), mean 0.08 s
    assert sample(registry, "aivitals_time_per_output_chunk_seconds_sum") == pytest.approx(0.4 / 5)
    assert sample(registry, "aivitals_tokens_total", token_type="output") == 5
    assert requests(registry, outcome="ok") == 1


def test_an_abandoned_stream_is_recorded_as_cancelled_when_closed_or_collected(tracker, registry, clock):
    @tracker.track(model="gpt-4o-mini")
    def stream_fn():
        yield from openai_stream(clock, 10)

    first = stream_fn()
    next(first)
    first.close()
    second = stream_fn()
    next(second)
    del second
    gc.collect()
    assert requests(registry, outcome="cancelled") == 2
    assert sample(registry, "aivitals_time_to_first_chunk_seconds_count") == 2


def test_a_stream_that_fails_midway_reraises_and_counts_an_error(tracker, registry, clock):
    @tracker.track(model="gpt-4o-mini")
    def stream_fn():
        yield from openai_stream(clock, 2)
        raise ConnectionError("reset")

    with pytest.raises(ConnectionError):
        list(stream_fn())
    assert requests(registry, outcome="error") == 1
    assert sample(registry, "aivitals_request_errors_total", error_type="ConnectionError") == 1


def test_a_stream_passes_send_values_and_return_value_through(tracker):
    @tracker.track(model="gpt-4o-mini")
    def echo():
        received = yield "ready"
        yield f"got {received}"
        return "done"

    gen = echo()
    assert next(gen) == "ready"
    assert gen.send("ping") == "got ping"
    with pytest.raises(StopIteration) as stop:
        next(gen)
    assert stop.value.value == "done"


def test_an_async_stream_with_anthropic_events_reads_cache_and_output_tokens(tracker, registry, clock):
    @tracker.track(model="claude-haiku-4-5", provider="anthropic")
    async def stream():
        clock.advance(0.2)
        yield {"type": "message_start", "message": {"usage": {"input_tokens": 30, "output_tokens": 1,
                                                              "cache_read_input_tokens": 70,
                                                              "cache_creation_input_tokens": 20}}}
        for _ in range(3):
            clock.advance(0.05)
            yield {"type": "content_block_delta"}
        yield {"type": "message_delta", "usage": {"output_tokens": 42}}

    async def consume():
        return [event async for event in stream()]

    assert len(asyncio.run(consume())) == 5
    assert sample(registry, "aivitals_tokens_total", token_type="input") == 120
    assert sample(registry, "aivitals_tokens_total", token_type="cached_input") == 70
    assert sample(registry, "aivitals_tokens_total", token_type="cache_creation") == 20
    assert sample(registry, "aivitals_tokens_total", token_type="output") == 42
    # claude-haiku-4-5: $1 input, $0.10 cache read, $1.25 cache write, $5 output per million
    assert sample(registry, "aivitals_cost_usd_total") == pytest.approx(
        (30 * 1.0 + 70 * 0.10 + 20 * 1.25 + 42 * 5.0) * 1e-6)
    assert sample(registry, "aivitals_time_to_first_chunk_seconds_sum") == pytest.approx(0.2)


def test_an_abandoned_async_stream_is_cancelled(tracker, registry):
    @tracker.track(model="gpt-4o-mini")
    async def stream():
        for index in range(10):
            yield index

    async def take_one():
        gen = stream()
        await gen.__anext__()
        await gen.aclose()

    asyncio.run(take_one())
    assert requests(registry, outcome="cancelled") == 1


def test_the_context_manager_records_usage_cache_refusal_and_scores(tracker, registry, clock):
    with tracker.track(model="gpt-4o", operation="chat") as call:
        clock.advance(2.0)
        call.cache("prompt", True)
        call.set_tokens(input=300, output=50, cached_input=100)
        call.score("groundedness", 0.95)
        call.evaluation("hallucination", passed=True)
    with tracker.track(model="gpt-4o") as call:
        call.refused()
    assert requests(registry, outcome="ok") == 1
    assert requests(registry, outcome="refused") == 1
    assert sample(registry, DURATION + "_sum") == pytest.approx(2.0)
    assert sample(registry, "aivitals_cache_requests_total", cache="prompt", result="hit") == 1
    assert sample(registry, "aivitals_quality_score_sum", evaluator="groundedness") == pytest.approx(0.95)
    assert sample(registry, "aivitals_evaluations_total", evaluator="hallucination", verdict="pass") == 1
    assert sample(registry, "aivitals_tokens_total", token_type="cached_input") == 100


def test_the_context_manager_reads_a_response_and_counts_an_exception(tracker, registry):
    with tracker.track(model="gpt-4o-mini") as call:
        call.record_response(openai_chat(prompt=10, completion=5))
    with pytest.raises(KeyError), tracker.track(model="gpt-4o-mini"):
        raise KeyError("x")
    assert sample(registry, "aivitals_tokens_total", token_type="input") == 10
    assert requests(registry, outcome="error") == 1


def test_one_track_object_nests_and_serves_several_threads(tracker, registry):
    shared = tracker.track(model="gpt-4o-mini")
    with shared as outer, shared as inner:
        inner.set_tokens(input=1)
        outer.set_tokens(input=2)
    errors = []

    def work():
        try:
            for _ in range(200):
                with shared as call:
                    call.set_tokens(input=1, output=1)
        except Exception as exc:  # pragma: no cover - the assertion below reports it
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert requests(registry) == 802
    assert sample(registry, "aivitals_tokens_total", token_type="input") == 803


def test_concurrent_calls_from_many_threads_are_all_counted(registry):
    tracker = Tracker(registry, buffer_size=64)
    ask = tracker.track(model="gpt-4o-mini")(lambda: openai_chat(prompt=3, completion=1))
    scrapes = []

    def work():
        for _ in range(5000):
            ask()

    def scrape():
        for _ in range(20):
            scrapes.append(sample(registry, "aivitals_requests_total"))

    threads = [threading.Thread(target=work) for _ in range(4)] + [threading.Thread(target=scrape)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert requests(registry) == 20000
    assert sample(registry, DURATION + "_count") == 20000
    assert sample(registry, "aivitals_tokens_total", token_type="input") == 60000
    assert scrapes == sorted(scrapes), "counters never go backwards between scrapes"


def test_a_scrape_sees_every_call_that_has_returned(registry):
    tracker = Tracker(registry, buffer_size=10**6)
    ask = tracker.track(model="gpt-4o-mini")(lambda: None)
    for expected in range(1, 4):
        ask()
        assert requests(registry) == expected


def test_model_none_takes_the_model_the_response_names(tracker, registry):
    ask = tracker.track(provider="openai")(lambda: openai_chat(model="gpt-4.1-mini"))
    ask()
    assert requests(registry, model="gpt-4.1-mini") == 1
    assert sample(registry, "aivitals_cost_usd_total", model="gpt-4.1-mini") > 0


def test_a_self_hosted_model_costs_its_gpu_time(registry, clock):
    tracker = Tracker(registry, clock=clock)

    @tracker.track(model="llama-3.1-70b-instruct", operation="text_completion")
    def generate():
        clock.advance(3.0)

    generate()
    # 3 s on 4 GPUs at $2.49 per GPU-hour
    assert sample(registry, "aivitals_gpu_seconds_total") == pytest.approx(12.0)
    assert sample(registry, "aivitals_cost_usd_total", cost_kind="gpu_time") == pytest.approx(12.0 * 2.49 / 3600)
    assert sample(registry, "aivitals_requests_total", provider="self_hosted") == 1


def test_a_model_missing_from_the_price_table_is_unpriced_not_guessed(tracker, registry):
    tracker.track(model="my-finetune-7b")(lambda: openai_chat(model="my-finetune-7b"))()
    assert sample(registry, "aivitals_unpriced_requests_total", model="my-finetune-7b") == 1
    assert sample(registry, "aivitals_cost_usd_total", model="my-finetune-7b") is None
    assert requests(registry, model="my-finetune-7b", provider="other") == 1


def test_a_dated_model_version_uses_its_undated_price(tracker, registry):
    tracker.track(model="gpt-4o-2024-08-06")(lambda: openai_chat(prompt=1_000_000, completion=0))()
    assert sample(registry, "aivitals_cost_usd_total", cost_kind="input") == pytest.approx(2.50)


def test_app_level_records_overrides_outcomes_and_pii(tracker, registry):
    tracker.record_override("suggested", model="router")
    tracker.record_override("overridden", model="router")
    tracker.record_outcome("ticket_resolved", value_usd=6.5)
    tracker.record_outcome("ticket_resolved", value_usd=3.5, cohort="control")
    tracker.record_pii("email", model="gpt-4o")
    assert sample(registry, "aivitals_overrides_total", action="overridden") == 1
    assert sample(registry, "aivitals_business_outcomes_total") == 2
    assert sample(registry, "aivitals_business_value_usd_total", cohort="treatment") == 6.5
    assert sample(registry, "aivitals_pii_detections_total", pii_kind="email") == 1


def test_the_global_convenience_layer_records_into_the_default_registry():
    import prometheus_client

    import aivitals

    @aivitals.track(model="gpt-4o-mini")
    def ask():
        return openai_chat(prompt=7, completion=1)

    before = sample(prometheus_client.REGISTRY, "aivitals_tokens_total", token_type="input") or 0
    ask()
    assert sample(prometheus_client.REGISTRY, "aivitals_tokens_total", token_type="input") == before + 7
