"""Regressions for the SDK's hardening: no leak per call, nothing raised into user code, no counter poisoned."""

from __future__ import annotations

import contextvars
import math

import numpy as np
import pytest
from prometheus_client import CollectorRegistry

from aivitals import Tracker, Usage
from aivitals.call import classify
from conftest import openai_chat, sample


def test_the_context_manager_form_leaves_no_context_variable_per_call(tracker):
    """A ContextVar is never freed: one per ``with track()`` grew a service's memory without bound."""
    for _ in range(200):
        with tracker.track(model="gpt-4o-mini") as call:
            call.record_response(openai_chat())
    after_few = len(contextvars.copy_context())
    for _ in range(2000):
        with tracker.track(model="gpt-4o-mini") as call:
            call.record_response(openai_chat())
    assert len(contextvars.copy_context()) == after_few
    tracker.flush()
    assert sample(tracker_registry(tracker), "aivitals_requests_total") == 2200


def tracker_registry(tracker):
    from prometheus_client import CollectorRegistry

    registry = CollectorRegistry()
    registry.register(tracker.collector())
    return registry


def test_nested_context_managers_of_one_and_of_two_tracks_each_close_their_own_call(tracker, registry, clock):
    outer, inner = tracker.track(model="gpt-4o"), tracker.track(model="gpt-4o-mini")
    with outer as first:
        clock.advance(1)
        with inner as second, outer as third:
            clock.advance(2)
            third.set_tokens(input=3, output=1)
            second.set_tokens(input=2, output=1)
        first.set_tokens(input=1, output=1)
    assert sample(registry, "aivitals_tokens_total", model="gpt-4o", token_type="input") == 4
    assert sample(registry, "aivitals_tokens_total", model="gpt-4o-mini", token_type="input") == 2
    assert sample(registry, "aivitals_request_duration_seconds_sum", model="gpt-4o") == 3 + 2
    assert sample(registry, "aivitals_sdk_errors_total", stage="record") == 0


def test_exiting_a_track_never_entered_is_counted_not_raised(tracker, registry):
    tracker.track(model="gpt-4o").__exit__(None, None, None)
    assert sample(registry, "aivitals_sdk_errors_total", stage="record") == 1


@pytest.mark.parametrize("flag", [np.array([True, False]), "no", None, 2, object(), np.array([]), float("nan")])
def test_a_flag_that_is_not_a_boolean_is_counted_never_raised(tracker, registry, flag):
    tracker.record_evaluation("hallucination", flag)
    tracker.record_cache("prompt", flag)
    with tracker.track(model="gpt-4o") as call:
        call.cache("prompt", flag)
        call.evaluation("hallucination", flag)
    tracker.flush()
    assert sample(registry, "aivitals_sdk_errors_total", stage="record") == 4
    assert sample(registry, "aivitals_cache_requests_total") is None
    assert sample(registry, "aivitals_evaluations_total") is None


@pytest.mark.parametrize("flag, label", [(np.bool_(True), "hit"), (np.bool_(False), "miss"), (1, "hit"), (0, "miss")])
def test_numpy_booleans_and_zero_or_one_are_flags(tracker, registry, flag, label):
    tracker.record_cache("prompt", flag)
    assert sample(registry, "aivitals_cache_requests_total", result=label) == 1


class _RaisingName(type):
    @property
    def __name__(cls):  # type: ignore[override]
        raise RuntimeError("no name for you")


class Weird(Exception, metaclass=_RaisingName):
    pass


def test_an_exception_class_whose_name_raises_is_reraised_unchanged(tracker, registry):
    error = Weird("boom")

    def failing():
        raise error

    with pytest.raises(Weird) as caught:
        tracker.track(model="gpt-4o")(failing)()
    assert caught.value is error
    with pytest.raises(Weird) as caught, tracker.track(model="gpt-4o"):
        raise error
    assert caught.value is error
    assert classify(error)[1] == "other"
    assert sample(registry, "aivitals_requests_total", outcome="error") == 2


@pytest.mark.parametrize("usage", [Usage(input=-1000, output=5), Usage(input=math.nan, output=1),  # type: ignore[arg-type]
                                   Usage(input=10, output=1, cached_input=50), Usage(input=5, output=2, reasoning=9),
                                   Usage(input=math.inf), "seven tokens", 12])
def test_an_invalid_usage_from_an_extractor_is_counted_and_adds_nothing(tracker, registry, usage):
    tracker.track(model="gpt-4o", usage=lambda response: usage)(lambda: "answer")()
    assert sample(registry, "aivitals_sdk_errors_total", stage="usage") == 1
    assert not sample(registry, "aivitals_tokens_total")
    costs = [s.value for f in registry.collect() for s in f.samples if s.name == "aivitals_cost_usd_total"]
    assert all(value == 0 and not math.isnan(value) for value in costs)
    assert sample(registry, "aivitals_requests_total", outcome="ok") == 1


def test_a_usage_object_on_a_response_is_validated_like_any_count(tracker, registry):
    class Response:
        usage = Usage(input=-1000, output=5)

    tracker.track(model="gpt-4o")(lambda: Response())()
    tracker.track(model="gpt-4o")(lambda: openai_chat(prompt=10, completion=2))()
    assert sample(registry, "aivitals_tokens_total", token_type="input") == 10
    assert sample(registry, "aivitals_sdk_errors_total", stage="usage") == 1
    assert sample(registry, "aivitals_cost_usd_total") > 0


def test_cached_input_beyond_input_never_gives_a_negative_cost(tracker, registry):
    tracker.track(model="gpt-4o")(lambda: openai_chat(prompt=10, completion=2, cached=500))()
    assert not sample(registry, "aivitals_tokens_total")
    assert sample(registry, "aivitals_sdk_errors_total", stage="usage") == 1


@pytest.mark.parametrize("seconds", [math.inf, math.nan, -1.0, 1e300, True, "3"])
def test_gpu_seconds_that_are_not_a_finite_amount_are_refused(tracker, registry, seconds):
    with tracker.track(model="gpt-4o") as call:
        call.gpu_seconds(seconds)
    assert sample(registry, "aivitals_sdk_errors_total", stage="record") == 1


@pytest.mark.parametrize("value", [math.inf, math.nan, -1.0, 1e13, "5", True])
def test_an_outcome_value_that_is_not_a_finite_amount_is_refused(tracker, registry, value):
    tracker.record_outcome("ticket_resolved", value_usd=value)
    assert sample(registry, "aivitals_sdk_errors_total", stage="record") == 1
    assert sample(registry, "aivitals_business_outcomes_total") is None


def test_a_clock_that_goes_back_never_makes_a_duration_sum_decrease(registry):
    from aivitals import Tracker

    readings = iter([10.0, 5.0, 20.0, 21.0, 30.0, math.nan, 40.0, 39.0] * 2)
    tracker = Tracker(registry, clock=lambda: next(readings))
    answer = tracker.track(model="gpt-4o")(lambda: openai_chat())
    for _ in range(4):
        answer()
    with tracker.track(model="gpt-4o"):
        pass
    with tracker.track(model="gpt-4o"):
        pass
    assert sample(registry, "aivitals_request_duration_seconds_sum") == 2.0  # 21-20, twice; the rest clamp to 0
    assert sample(registry, "aivitals_request_duration_seconds_count") == 6


def test_a_str_subclass_label_is_exported_as_its_plain_text(tracker, registry):
    class Name(str):
        def __eq__(self, other):
            raise RuntimeError("compared")

        __hash__ = str.__hash__

    tracker.track(model=Name("gpt-4o"))(lambda: openai_chat())()
    assert sample(registry, "aivitals_requests_total", model="gpt-4o") == 1


def test_one_model_under_two_operations_exports_one_cost_and_one_unpriced_sample_each(tracker, registry):
    """Cost, unpriced calls and GPU time have no operation label: series that share the rest are summed."""
    tracker.track(model="gpt-4o", operation="chat")(lambda: openai_chat(prompt=1000, completion=0))()
    tracker.track(model="gpt-4o", operation="embeddings")(lambda: openai_chat(prompt=3000, completion=0))()
    tracker.track(model=None, operation="chat")(lambda: "no model")()
    tracker.track(model=None, operation="embeddings")(lambda: "no model")()
    samples = [(s.name, tuple(sorted(s.labels.items())), s.value) for f in registry.collect() for s in f.samples
               if s.name in ("aivitals_cost_usd_total", "aivitals_unpriced_requests_total")]
    assert len({(name, labels) for name, labels, _ in samples}) == len(samples), "no duplicate series"
    input_cost = [v for name, labels, v in samples if name == "aivitals_cost_usd_total"
                  and ("cost_kind", "input") in labels]
    single = Tracker(CollectorRegistry(), service="checkout")
    single.track(model="gpt-4o")(lambda: openai_chat(prompt=4000, completion=0))()
    assert input_cost == [pytest.approx(sample_of(single, "aivitals_cost_usd_total", cost_kind="input"))]
    assert [v for name, _, v in samples if name == "aivitals_unpriced_requests_total"] == [2]


def sample_of(tracker, name, **labels):
    return sample(tracker_registry(tracker), name, **labels)
