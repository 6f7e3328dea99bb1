"""Evaluation off the hot path: sampled calls go to a bounded queue, one background thread evaluates them.

The calling thread only decides whether to sample (one ``random()`` against the
model's rate) and appends a tuple to a deque. A full queue drops the call and
counts it; nothing ever blocks or raises into the app. The thread turns each
item into a Sample (a response of ``max_chars`` or more is cut there and counted as
truncated; a response with no text or contexts that are not a list is counted as
an error), runs the suite, and records every verdict through a ``Recorder``
(the Tracker's ``record_quality`` / ``record_evaluation`` / ``record_pii``, with
the ``method`` that produced it).
"""

from __future__ import annotations

import atexit
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..catalogue.values import EVALUATION_STATUSES
from .base import Sample
from .extract import response_text
from .judge import Judge
from .records import RecordError, _contexts
from .suite import Evaluation, Suite, default_evaluators

#: Responses longer than this (characters) are cut before evaluation, and counted.
MAX_CHARS = 100_000
#: How often the idle thread looks at the queue: the most an evaluation waits before it starts.
POLL_SECONDS = 0.05
#: Scores that go into aivitals_quality_score, by evaluator.
_SCORED = ("groundedness", "context_precision", "context_recall", "toxicity")


class Recorder(Protocol):
    """Where verdicts go: the Tracker implements it."""

    def record_quality(self, evaluator: str, score: float, *, model: str | None = None,
                       method: str = ...) -> None: ...

    def record_evaluation(self, evaluator: str, passed: bool, *, model: str | None = None,
                          method: str = ...) -> None: ...

    def record_pii(self, kind: str, *, model: str | None = None, method: str = ...) -> None: ...


@dataclass
class EvaluateConfig:
    """What ``Tracker(evaluate=...)`` takes.

    ``sample_rate`` is the share of calls evaluated (0..1), ``per_model`` overrides
    it by model name; ``queue_size`` bounds the queue; ``judge`` opts into an LLM judge.
    """

    sample_rate: float = 0.05
    per_model: dict[str, float] = field(default_factory=dict)
    queue_size: int = 1000
    max_chars: int = MAX_CHARS
    judge: Judge | None = None
    suite: Suite | None = None
    rng: Callable[[], float] = random.random
    #: ``extract(args, kwargs) -> {"question", "contexts", "user_input"}`` for decorated functions.
    extract: Callable[[tuple[Any, ...], dict[str, Any]], dict[str, Any]] | None = None


Item = tuple[str | None, Any, str, Any, str | None]


class Worker:
    """A bounded queue and one daemon thread that evaluates what is put on it."""

    def __init__(self, recorder: Recorder, config: EvaluateConfig | None = None) -> None:
        self.config = config = config or EvaluateConfig()
        self.recorder = recorder
        self.suite = config.suite or Suite(default_evaluators(config.judge), max_chars=config.max_chars)
        self.suite.max_chars = config.max_chars
        self.counts: dict[tuple[str | None, str], int] = {}
        self._count_lock = threading.Lock()
        self._queue: deque[Item] = deque()
        self._wake = threading.Event()  # set only to stop or drain: the thread polls the queue
        self._busy = False
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._stopping = False
        #: The EvaluatorCollector exposing these counts, once registered (see ``hook.start``).
        self.collector: Any = None

    # -- the calling thread -------------------------------------------------------------------
    def sampled(self, model: str | None) -> bool:
        """Whether this call of ``model`` is evaluated (the model's rate, else the default)."""
        rate = self.config.per_model.get(model, self.config.sample_rate) if model else self.config.sample_rate
        return rate > 0.0 and (rate >= 1.0 or self.config.rng() < rate)

    def submit(self, model: str | None, response: Any, question: str = "", contexts: Any = None,
               user_input: str | None = None) -> bool:
        """Queue one response; False (and counted as dropped) when the queue is full. Never blocks or raises."""
        try:
            if len(self._queue) >= self.config.queue_size:
                self._count(model, "dropped")
                return False
            self._queue.append((model, response, question, contexts, user_input))
            if self._thread is None:
                self._start()
            return True
        except Exception:
            return False

    # -- the worker thread ----------------------------------------------------------------------
    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="aivitals-evaluator", daemon=True)
                self._thread.start()
                atexit.register(self.stop)

    def _run(self) -> None:
        while not self._stopping:
            self._busy = True  # before the pop, so drain() never sees an item in hand as idle
            try:
                item = self._queue.popleft()
            except IndexError:
                self._busy = False
                self._wake.wait(POLL_SECONDS)  # polled, not signalled: a submit pays no wake-up
                self._wake.clear()
                continue
            self._process(item)

    def _process(self, item: Item) -> None:
        model = item[0]
        try:
            sample = self._sample(item)
            if sample is None:
                self._count(model, "error")
                return
            result = self.suite.evaluate(sample)
            self._record(model, result)
            self._count(model, "evaluated")
            if result.truncated:
                self._count(model, "truncated")
            if result.errors:
                self._count(model, "error")
        except Exception:
            self._count(model, "error")  # never into the app, never a dead thread

    def _sample(self, item: Item) -> Sample | None:
        _model, response, question, contexts, user_input = item
        if isinstance(response, Sample):  # a caller that built the whole sample (the demo, the sidecar)
            return response
        text = response_text(response)
        if text is None:
            return None
        try:
            parsed = _contexts(list(contexts) if isinstance(contexts, tuple) else contexts)
        except RecordError:
            return None
        provider = None if isinstance(response, (str, bytes, bytearray)) else response
        return Sample(text, question if isinstance(question, str) else "", parsed,
                      user_input if isinstance(user_input, str) else None, None, provider)

    def _record(self, model: str | None, result: Evaluation) -> None:
        record(self.recorder, model, result)

    def _count(self, model: str | None, status: str) -> None:
        key = (model, status if status in EVALUATION_STATUSES else "error")
        with self._count_lock:
            self.counts[key] = self.counts.get(key, 0) + 1

    # -- tests and shutdown -----------------------------------------------------------------------
    def drain(self, timeout: float = 10.0) -> bool:
        """Wait until the queue is empty and the last item evaluated; False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._wake.set()
            if not self._queue and not self._busy:
                return True
            time.sleep(0.005)
        return False

    def stop(self, timeout: float = 2.0) -> None:
        """Stop the thread and wait up to ``timeout`` for the item in hand (queued ones are dropped).

        Registered at exit: a daemon thread still inside native code (the toxicity model) when the
        interpreter tears down can abort the process.
        """
        self._stopping = True
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    @property
    def queued(self) -> int:
        return len(self._queue)


def record(recorder: Recorder, model: str | None, result: Evaluation) -> None:
    """Every verdict of ``result`` into ``recorder``'s series, with the method that reached it."""
    for verdict in result.verdicts:
        name, method = verdict.evaluator, verdict.method
        if name in _SCORED and verdict.score is not None:
            recorder.record_quality(name, verdict.score, model=model, method=method)
        if name == "groundedness" and verdict.flag is not None:
            recorder.record_evaluation("hallucination", not verdict.flag, model=model, method=method)
        elif name == "citation":
            recorder.record_evaluation("citation", bool(verdict.flag), model=model, method=method)
            if verdict.score is not None:
                recorder.record_evaluation("citation_valid", verdict.score == 1.0, model=model, method=method)
        elif name == "refusal":
            recorder.record_evaluation("refusal", not verdict.flag, model=model, method=method)
        elif name == "pii":
            for kind in verdict.kinds:
                recorder.record_pii(kind, model=model, method=method)
