"""Tracker(evaluate=...): decorated calls and ``with`` blocks feed the evaluators; off, nothing changes."""

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from aivitals import Tracker
from aivitals.evaluators.worker import EvaluateConfig

CONTEXTS = [{"id": "doc-1", "text": "Express shipping takes 2 days."}]


def _value(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, {"service": "svc", "model": "m", **labels})


def test_a_decorated_call_is_evaluated_with_the_question_and_contexts_its_extractor_reads() -> None:
    registry = CollectorRegistry()
    config = EvaluateConfig(sample_rate=1.0, extract=lambda args, kwargs: {"question": args[0],
                                                                           "contexts": kwargs["docs"]})
    tracker = Tracker(registry, service="svc", evaluate=config)

    @tracker.track(model="m")
    def answer(question: str, *, docs: list[dict[str, str]]) -> str:
        return "Express shipping takes 5 days [doc-1]. Write to ops@acme.io."

    assert answer("how fast?", docs=CONTEXTS).startswith("Express")
    assert tracker.evaluator is not None and tracker.evaluator.drain()
    tracker.flush()
    assert _value(registry, "aivitals_evaluations_total", evaluator="hallucination", method="lexical",
                  verdict="fail") == 1
    assert _value(registry, "aivitals_pii_detections_total", pii_kind="email", method="lexical") == 1
    assert _value(registry, "aivitals_evaluator_responses_total", evaluation_status="evaluated") == 1
    assert _value(registry, "aivitals_requests_total", operation="chat", provider="other", outcome="ok") == 1


async def test_an_async_call_is_evaluated_too() -> None:
    registry = CollectorRegistry()
    tracker = Tracker(registry, service="svc", evaluate=1.0)

    @tracker.track(model="m")
    async def answer() -> str:
        return "I'm sorry, but I can't help with that."

    await answer()
    assert tracker.evaluator is not None and tracker.evaluator.drain()
    tracker.flush()
    assert _value(registry, "aivitals_evaluations_total", evaluator="refusal", method="lexical", verdict="fail") == 1


def test_a_with_block_hands_over_its_response_and_call_context() -> None:
    registry = CollectorRegistry()
    tracker = Tracker(registry, service="svc", evaluate=EvaluateConfig(per_model={"m": 1.0}, sample_rate=0.0))
    response = {"model": "m", "choices": [{"message": {"content": "Express shipping takes 2 days [doc-1]."},
                                           "finish_reason": "stop"}]}
    with tracker.track(model="m") as call:
        call.context(CONTEXTS, question="how fast is express?")
        call.record_response(response)
    assert tracker.evaluator is not None and tracker.evaluator.drain()
    tracker.flush()
    assert _value(registry, "aivitals_evaluations_total", evaluator="hallucination", method="lexical",
                  verdict="pass") == 1
    assert _value(registry, "aivitals_evaluations_total", evaluator="citation_valid", method="lexical",
                  verdict="pass") == 1
    assert _value(registry, "aivitals_quality_score_sum", evaluator="groundedness", method="lexical") == 1.0


def test_evaluation_off_leaves_the_decorator_and_the_call_as_they_were() -> None:
    tracker = Tracker(CollectorRegistry(), service="svc")

    def plain(x: int) -> int:
        return x

    wrapped = tracker.track(model="m")(plain)
    assert tracker.evaluator is None
    assert wrapped.__code__.co_name == "tracked_fast"  # the same fast path, no evaluation layer
    with tracker.track(model="m") as call:
        call.context(CONTEXTS, question="q")  # accepted and ignored
        call.record_response("Mail ann@x.org")


def test_an_extractor_that_raises_or_a_bad_setting_never_reaches_the_caller() -> None:
    registry = CollectorRegistry()

    def broken(args: Any, kwargs: Any) -> dict[str, Any]:
        raise KeyError("no docs")

    tracker = Tracker(registry, service="svc", evaluate=EvaluateConfig(sample_rate=1.0, extract=broken))

    @tracker.track(model="m")
    def answer() -> str:
        return "fine"

    assert answer() == "fine"
    assert tracker.evaluator is not None and tracker.evaluator.counts[("m", "error")] == 1
    with pytest.raises(ValueError, match="sample rate"):
        Tracker(CollectorRegistry(), evaluate=7)
