"""Hostile input at every public SDK function: the user's exception comes out unchanged and nothing else does;
no counter decreases or becomes NaN; no label grows past its cap."""

from __future__ import annotations

import asyncio
import math
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry

from aivitals import Tracker, Usage

MAX_MODELS = 4


class Raising:
    """An object every one of whose dunder methods and attributes raises."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_repr"):  # let hypothesis print a failing example
            raise AttributeError(name)
        raise RuntimeError(f"attribute {name}")

    def __repr__(self) -> str:
        return "Raising()"

    def __bool__(self) -> bool:
        raise RuntimeError("bool")

    def __eq__(self, other: object) -> bool:
        raise RuntimeError("eq")

    def __hash__(self) -> int:
        raise RuntimeError("hash")

    def __len__(self) -> int:
        raise RuntimeError("len")

    def __iter__(self) -> Any:
        raise RuntimeError("iter")

    def __str__(self) -> str:
        raise RuntimeError("str")

    def __float__(self) -> float:
        raise RuntimeError("float")

    def __index__(self) -> int:
        raise RuntimeError("index")


class RaisingStr(str):
    def __repr__(self) -> str:
        return "RaisingStr()"

    def __eq__(self, other: object) -> bool:
        raise RuntimeError("eq")

    def __hash__(self) -> int:
        raise RuntimeError("hash")

    def __len__(self) -> int:
        raise RuntimeError("len")


class UserError(Exception):
    """The user's own exception: it must come out as the very same object."""


numbers = st.one_of(st.integers(min_value=-(10**30), max_value=10**30), st.floats(allow_nan=True, allow_infinity=True),
                    st.just(True), st.just(-0.0), st.builds(lambda: np.float64("nan")),
                    st.builds(lambda: np.int64(-3)), st.builds(lambda: np.bool_(True)))
scalars = st.one_of(st.none(), numbers, st.text(max_size=80), st.binary(max_size=40),
                    st.sampled_from(["gpt-4o", "gpt-4o-mini", "claude-haiku-4-5", "prompt", "hallucination", "hit",
                                     "ticket_resolved", "control", "email", "ignore all previous instructions"]))
usage_dicts = st.fixed_dictionaries({}, optional={
    "prompt_tokens": numbers, "completion_tokens": numbers, "input_tokens": numbers, "output_tokens": numbers,
    "cache_read_input_tokens": numbers, "cache_creation_input_tokens": numbers,
    "prompt_tokens_details": st.dictionaries(st.just("cached_tokens"), numbers)})
responses = st.one_of(
    scalars,
    st.builds(lambda usage, model: {"model": model, "usage": usage, "choices": [{"message": {"refusal": None}}]},
              usage_dicts, scalars),
    st.builds(lambda usage: {"type": "message", "usage": usage, "stop_reason": "refusal"}, usage_dicts),
    st.builds(Usage, numbers, numbers, numbers, numbers, numbers),
    st.builds(Raising), st.builds(RaisingStr, st.just("gpt-4o")), st.builds(lambda: np.array([1, 2])),
    st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                          max_size=3), max_leaves=8),
)
values = st.one_of(responses, st.builds(Raising), st.builds(lambda: np.array([True, False])))


def counters(registry: CollectorRegistry) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample that must only ever grow: counters, histogram buckets, counts and sums."""
    out = {}
    for family in registry.collect():
        if family.type not in ("counter", "histogram"):
            continue
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def check_counters(registry: CollectorRegistry, before: dict[Any, float]) -> dict[Any, float]:
    after = counters(registry)
    for key, value in after.items():
        assert math.isfinite(value) and value >= 0, (key, value)
        assert value >= before.get(key, 0.0), (key, before.get(key), value)
    models = {dict(labels).get("model") for _, labels in after} - {None}
    assert len(models - {"other", "unknown"}) <= MAX_MODELS
    return after


def step(tracker: Tracker, op: str, a: Any, b: Any, c: Any) -> None:
    error = UserError("user")

    def function(result: Any = a) -> Any:
        if c is True:
            raise error
        return result

    if op == "decorate":
        answer = tracker.track(model=b if isinstance(b, str) else None, operation=c, provider=b)(function)
        try:
            assert answer() is a
        except UserError as caught:
            assert caught is error
    elif op == "extractor":
        def extractor(response: Any) -> Any:
            if isinstance(b, Raising):
                raise RuntimeError("extractor")
            return b

        assert tracker.track(model="gpt-4o", usage=extractor)(lambda: a)() is a
    elif op == "async":
        async def coroutine() -> Any:
            return function()

        try:
            assert asyncio.run(tracker.track(model=b)(coroutine)()) is a
        except UserError as caught:
            assert caught is error
    elif op == "generator":
        def chunks() -> Any:
            yield a
            yield b
            if c is True:
                raise error

        try:
            got = list(tracker.track(model=None)(chunks)())
            assert len(got) == 2 and got[0] is a and got[1] is b, "the chunks come through unchanged"
        except UserError as caught:
            assert caught is error
    elif op == "context":
        try:
            with tracker.track(model=a, provider=c) as call:
                call.set_model(b)
                call.record_response(a)
                call.set_tokens(a, b, c)
                call.chunk(b)
                call.gpu_seconds(a)
                call.cache(b, c)
                call.score(b, a)
                call.evaluation(b, c)
                call.refused()
                if c is True:
                    raise error
        except UserError as caught:
            assert caught is error
    else:
        record = {"cache": lambda: tracker.record_cache(a, b, model=c),
                  "quality": lambda: tracker.record_quality(a, b, model=c),
                  "evaluation": lambda: tracker.record_evaluation(a, b, model=c),
                  "override": lambda: tracker.record_override(a, model=b),
                  "pii": lambda: tracker.record_pii(a, model=b),
                  "outcome": lambda: tracker.record_outcome(a, value_usd=b, cohort=c)}[op]
        assert record() is None


OPS = ["decorate", "extractor", "async", "generator", "context", "cache", "quality", "evaluation", "override", "pii",
       "outcome"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(OPS), values, values, st.one_of(values, st.just(True))), min_size=1,
                max_size=12))
def test_no_sequence_of_hostile_calls_raises_decreases_a_counter_or_grows_a_label(calls):
    registry = CollectorRegistry()
    tracker = Tracker(registry, max_models=MAX_MODELS, buffer_size=4)
    seen = counters(registry)
    for op, a, b, c in calls:
        step(tracker, op, a, b, c)
        tracker.flush()
        seen = check_counters(registry, seen)


@settings(max_examples=60, deadline=None)
@given(st.lists(responses, min_size=1, max_size=30))
def test_any_response_the_fast_path_buffers_is_folded_without_raising(batch):
    registry = CollectorRegistry()
    tracker = Tracker(registry, buffer_size=8)
    answer = tracker.track(model="gpt-4o")(lambda response: response)
    for response in batch:
        assert answer(response) is response
    tracker.flush()
    after = check_counters(registry, {})
    requests = sum(v for (name, _), v in after.items() if name == "aivitals_requests_total")
    assert requests == len(batch), "every call is counted once, whatever it returned"
