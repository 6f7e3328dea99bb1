"""Evaluation events (``POST /v1/evaluations``): responses of apps not in Python, evaluated before the 2xx.

The request handler hands a request's evaluation events to a small thread pool
(off the event loop), which runs the default evaluators (deterministic, about a
millisecond a sample) and turns each event into its ``Verdicts``: scores,
pass/fail findings, PII kinds and statuses, with every evaluator, method and
kind folded through the catalogue's closed lists, and none of the text. The
handler then commits the verdicts through the writer in the events' place, like
any event: the event id is claimed (a resend, on this replica or another, is a
``duplicate``), the series (``aivitals_quality_score``,
``aivitals_evaluations_total``, ``aivitals_pii_detections_total``,
``aivitals_evaluator_responses_total``) change in the ledger in the same
transaction, and the 2xx comes after the commit. So the counts survive a
restart or a kill, and with several replicas each persists and exports its own.

A resend is not evaluated again: before evaluating, the pool looks the request's event
ids up in the store's committed claims (``EventStore.seen``, read-only) and gives an id
already there empty verdicts, which the writer answers ``duplicate``. The commit still
claims every id, so two replicas evaluating one event at once still count it once.

The pool is bounded by events in flight (``evaluation_queue_size``): a request
that does not fit is refused whole with a 503 and Retry-After, so a flood cannot
hold every thread or grow a queue without end.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from aivitals.catalogue import LABELS, OTHER
from aivitals.evaluators.base import Context, Sample
from aivitals.evaluators.suite import Suite, default_evaluators
from aivitals.evaluators.worker import MAX_CHARS, record

from .events import Evaluation, Verdicts

#: Which of these event ids are already committed (a lookup of the store's claims, hashed as the writer hashes).
SeenIds = Callable[[Sequence[str]], set[str]]

#: Evaluation events in flight (evaluated or waiting for a thread); a request that does not fit is answered 503.
QUEUE_SIZE = 500
#: Threads evaluating: the evaluators are pure Python under the GIL, so more would only add contention.
THREADS = 2


class Closed(RuntimeError):
    """The sidecar is shutting down: nothing more is evaluated (the client retries elsewhere or later)."""


def _closed(label: str, value: str) -> str:
    """A value of a closed label, or ``other``: the evaluators' names and kinds pass the catalogue's list."""
    return value if value in LABELS[label].values else OTHER


def sample(event: Evaluation, max_chars: int) -> Sample:
    """The evaluators' sample of one event; a response over ``max_chars`` keeps one character more, so the
    suite still cuts it and counts the cut."""
    return Sample(event.response[: max_chars + 1], event.question,
                  tuple(Context(c.id, c.text) for c in event.contexts), event.user_input,
                  None if event.relevant_context_ids is None else tuple(event.relevant_context_ids))


class _Found:
    """A ``Recorder`` (evaluators/worker.py) that keeps one response's verdicts, as the SDK's worker records them."""

    def __init__(self) -> None:
        self.scores: list[tuple[str, str, float]] = []
        self.judged: list[tuple[str, str, bool]] = []
        self.pii: list[tuple[str, str]] = []

    def record_quality(self, evaluator: str, score: float, *, model: str | None = None,
                       method: str = "lexical") -> None:
        self.scores.append((_closed("evaluator", evaluator), _closed("method", method),
                            min(max(float(score), 0.0), 1.0)))

    def record_evaluation(self, evaluator: str, passed: bool, *, model: str | None = None,
                          method: str = "lexical") -> None:
        self.judged.append((_closed("evaluator", evaluator), _closed("method", method), bool(passed)))

    def record_pii(self, kind: str, *, model: str | None = None, method: str = "lexical") -> None:
        self.pii.append((_closed("pii_kind", kind), _closed("method", method)))


class Evaluations:
    """The sidecar's evaluation pool: turns evaluation events into their verdicts, a bounded number at a time."""

    def __init__(self, capacity: int = QUEUE_SIZE, max_chars: int = MAX_CHARS, suite: Suite | None = None,
                 threads: int = THREADS, seen: SeenIds | None = None) -> None:
        self.capacity = capacity
        self.seen = seen
        self.max_chars = max_chars
        self.suite = suite or Suite(default_evaluators(), max_chars=max_chars)
        self.suite.max_chars = max_chars
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="aivitals-evaluate")
        self._lock = threading.Lock()
        self._in_flight = 0

    @property
    def room(self) -> int:
        """How many more events the pool takes now."""
        return max(self.capacity - self._in_flight, 0)

    def reserve(self, count: int) -> bool:
        """Hold room for ``count`` events until they are evaluated; False when it lacks room."""
        with self._lock:  # requests of several threads never share out the last room between them
            if count > self.room:
                return False
            self._in_flight += count
            return True

    def release(self, count: int) -> None:
        with self._lock:
            self._in_flight -= count

    async def verdicts(self, events: Sequence[Evaluation]) -> list[Verdicts]:
        """The verdicts of events whose room was reserved, evaluated on the pool; the room is given back
        when the pool is done with them (not when the request goes away), so the bound holds."""
        try:
            future: Future[list[Verdicts]] = self._pool.submit(self.evaluate, events)
        except RuntimeError:  # the pool was shut down
            self.release(len(events))
            raise Closed("the sidecar is shutting down") from None
        future.add_done_callback(lambda _: self.release(len(events)))
        return await asyncio.wrap_future(future)

    def evaluate(self, events: Sequence[Evaluation]) -> list[Verdicts]:
        """Verdicts of the events not yet committed; one already committed gets empty ones (the writer finds
        its id claimed and answers duplicate; were it evicted meanwhile, it is counted accepted, not evaluated)."""
        known = self.committed(events)
        return [Verdicts(event.event_id, event.service, event.model) if event.event_id in known
                else self.evaluate_one(event) for event in events]

    def committed(self, events: Sequence[Evaluation]) -> set[str]:
        """The ids of events already committed; none when the lookup fails (it only saves work: the commit
        still claims every id, so nothing is counted twice)."""
        ids = [event.event_id for event in events if event.event_id is not None]
        if self.seen is None or not ids:
            return set()
        try:
            return self.seen(ids)
        except Exception:  # the store unreadable now (or a bug in the lookup): evaluate all, never a 5xx here
            return set()

    def evaluate_one(self, event: Evaluation) -> Verdicts:
        """One event's verdicts; statuses as the SDK's worker counts them (an evaluator that raised: error)."""
        found = _Found()
        try:
            result = self.suite.evaluate(sample(event, self.max_chars))
            record(found, None, result)
        except Exception:  # a bug in an evaluator: counted, never a 5xx, never the text in a log
            return Verdicts(event.event_id, event.service, event.model, statuses=("error",))
        statuses = ("evaluated", *(("truncated",) if result.truncated else ()),
                    *(("error",) if result.errors else ()))
        return Verdicts(event.event_id, event.service, event.model, tuple(found.scores), tuple(found.judged),
                        tuple(found.pii), statuses)

    def close(self) -> None:
        """Finish what is being evaluated (nothing of it is acknowledged yet), then stop the threads."""
        self._pool.shutdown(wait=True)
