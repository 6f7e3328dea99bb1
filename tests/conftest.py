"""Shared fixtures: a fresh registry and tracker per test, and a manual clock."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from aivitals import Tracker

#: Fixtures shared by a group of test modules: the sidecar's app and clock, the Helm chart.
pytest_plugins = ["_sidecar", "helm_support", "_postgres"]


class ManualClock:
    """A clock the test moves by hand, so durations are exact."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def tracker(registry: CollectorRegistry, clock: ManualClock) -> Tracker:
    return Tracker(registry, service="checkout", clock=clock)


def sample(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    """The value of one sample; labels not given are summed over."""
    total = None
    for family in registry.collect():
        for s in family.samples:
            if s.name == name and labels.items() <= s.labels.items():
                total = (total or 0.0) + s.value
    return total


@pytest.fixture
def free_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    yield port


def openai_chat(prompt: int = 100, completion: int = 20, cached: int = 0, reasoning: int = 0,
                refusal: str | None = None, model: str = "gpt-4o-mini") -> dict[str, Any]:
    return {"object": "chat.completion", "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok", "refusal": refusal}}],
            "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                      "prompt_tokens_details": {"cached_tokens": cached},
                      "completion_tokens_details": {"reasoning_tokens": reasoning}}}
