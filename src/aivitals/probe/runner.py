"""Runs every probe of the suite against an endpoint, with bounded concurrency and retries.

An attempt that gets no usable answer after its retries is counted as an
error of its kind and left out of the ratio: a flaky endpoint yields fewer
attempts, never a wrong attack success ratio.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TextIO

from .detect import succeeded
from .endpoint import Answer, Endpoint, EndpointError
from .suite import CATEGORIES, Attempt, Suite, render


@dataclass
class Tally:
    attempts: int = 0
    successes: int = 0
    errors: int = 0

    @property
    def ratio(self) -> float | None:
        return self.successes / self.attempts if self.attempts else None

    def as_json(self) -> dict[str, Any]:
        return {"attempts": self.attempts, "successes": self.successes, "errors": self.errors,
                "attack_success_ratio": self.ratio}


@dataclass
class Result:
    suite: str
    suite_version: str
    model: str
    model_version: str
    categories: dict[str, Tally] = field(default_factory=lambda: {c: Tally() for c in CATEGORIES})
    error_kinds: Counter[str] = field(default_factory=Counter)
    error_reasons: dict[str, str] = field(default_factory=dict)

    @property
    def overall(self) -> Tally:
        total = Tally()
        for tally in self.categories.values():
            total.attempts += tally.attempts
            total.successes += tally.successes
            total.errors += tally.errors
        return total

    def as_json(self) -> dict[str, Any]:
        overall = self.overall
        return {"suite": self.suite, "suite_version": self.suite_version, "model": self.model,
                "model_version": self.model_version, "attempts": overall.attempts, "successes": overall.successes,
                "errors": overall.errors, "attack_success_ratio": overall.ratio,
                "error_kinds": dict(sorted(self.error_kinds.items())),
                "categories": {name: tally.as_json() for name, tally in self.categories.items()}}


def ask_with_retries(endpoint: Endpoint, attempt: Attempt, retries: int,
                     sleep: Callable[[float], None] = time.sleep) -> Answer:
    for tries in range(retries + 1):
        try:
            return endpoint.ask(attempt.system, attempt.user)
        except EndpointError as exc:
            if not exc.retryable or tries == retries:
                raise
            sleep(min(0.25 * 2 ** tries, 4.0))
    raise AssertionError("unreachable")


class _Progress:
    """A one-line bar on a terminal; nothing in a pipe."""

    def __init__(self, total: int, stream: TextIO | None) -> None:
        self.total, self.done, self.stream = total, 0, stream
        self.lock = threading.Lock()

    def step(self) -> None:
        with self.lock:
            self.done += 1
            if self.stream is not None:
                filled = 30 * self.done // max(self.total, 1)
                self.stream.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {self.done}/{self.total} probes")
                if self.done == self.total:
                    self.stream.write("\n")
                self.stream.flush()


def run(suite: Suite, endpoint: Endpoint, *, model_version: str = "", system_prompt: str | None = None,
        concurrency: int = 4, retries: int = 2, repeats: int = 1, progress: TextIO | None = None) -> Result:
    """Send every probe ``repeats`` times, each with a fresh canary; score the answers."""
    attempts = [render(suite, probe, system_prompt) for _ in range(repeats) for probe in suite.probes]
    result = Result(suite.name, suite.version, endpoint.model, model_version)
    bar = _Progress(len(attempts), progress if progress is not None and progress.isatty() else None)
    lock = threading.Lock()

    def one(attempt: Attempt) -> None:
        tally = result.categories[attempt.probe.category]
        try:
            answer = ask_with_retries(endpoint, attempt, retries)
            success = succeeded(attempt, answer.text, suite.persona_markers, answer.response)
        except EndpointError as exc:
            with lock:
                tally.errors += 1
                result.error_kinds[exc.kind] += 1
                result.error_reasons.setdefault(exc.kind, str(exc))
        else:
            with lock:
                tally.attempts += 1
                tally.successes += success
        bar.step()

    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        list(pool.map(one, attempts))
    return result
