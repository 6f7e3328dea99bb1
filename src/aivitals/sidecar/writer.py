"""Group commit: one writer thread drains the queue, commits once, then answers every waiting request.

A request is acknowledged only after the transaction holding its events is on
disk, and concurrent requests share that one fsync. If the commit fails, every
request of the group gets a StoreError (HTTP 503, the client retries with the
same event ids) and the ledger is reloaded from the store, which still holds
the last committed state. A request that cannot be applied (it contradicts the
store, or trips a bug) is undone alone, inside a savepoint, and answered with a
422: it never fails the other requests of its group, and retrying it would not help.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import traceback
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field

from . import _metrics as M
from .apply import Applier, Contradiction
from .errors import RequestError
from .events import ALERT_KIND, AlertmanagerAlert, Committed
from .ledger import Ledger
from .store import EventStore, StoreError

log = logging.getLogger("aivitals.sidecar")


class Overloaded(StoreError):
    """Too many events wait for the writer; the client should retry shortly."""


@dataclass(frozen=True)
class Result:
    accepted: int
    duplicate: int


@dataclass
class _Job:
    received: float
    events: Sequence[Committed] = ()
    alerts: Sequence[AlertmanagerAlert] = ()
    rejected: tuple[str, int] | None = None
    future: Future[Result] | asyncio.Future[Result] | None = None
    size: int = field(init=False)

    def __post_init__(self) -> None:
        self.size = len(self.events) + len(self.alerts) or 1


_STOP = object()


class Writer:
    """The store's only writer. ``submit`` is thread-safe and returns a future per request."""

    def __init__(self, store: EventStore, ledger: Ledger, applier: Applier, clock: Callable[[], float],
                 max_pending_events: int = 200_000, max_group_events: int = 20_000) -> None:
        self.store = store
        self.ledger = ledger
        self.applier = applier
        self.clock = clock
        self.max_pending_events = max_pending_events
        self.max_group_events = max_group_events
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._pending = 0
        self._pending_lock = threading.Lock()
        self._closed = False
        self._broken = False
        self._thread = threading.Thread(target=self._run, name="aivitals-sidecar-writer", daemon=True)

    @property
    def ready(self) -> bool:
        """Accepting events: running and the last commit (or reload) worked."""
        return self._thread.is_alive() and not self._closed and not self._broken

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Commit what is queued, then stop the thread."""
        if not self._closed:
            self._closed = True
            self._queue.put(_STOP)
            self._thread.join(timeout)

    def submit(self, events: Sequence[Committed], received: float) -> Future[Result]:
        """Queue one request's events; the future resolves once they are committed (or failed)."""
        future: Future[Result] = Future()
        self._put(_Job(received, events=events, future=future))
        return future

    async def commit(self, received: float, events: Sequence[Committed] = (),
                     alerts: Sequence[AlertmanagerAlert] = ()) -> Result:
        """Queue and wait on the running event loop; a group wakes the loop once, not once per request."""
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._put(_Job(received, events=events, alerts=alerts, future=future))
        return await future

    def reject(self, kind: str, count: int) -> None:
        """Count rejected events; committed with the next group, nobody waits for it."""
        if not self._closed:
            self._queue.put(_Job(self.clock(), rejected=(kind, count)))

    def _put(self, job: _Job) -> None:
        if self._closed:
            raise StoreError("the sidecar is shutting down")
        with self._pending_lock:
            if self._pending + job.size > self.max_pending_events and self._pending > 0:
                raise Overloaded(f"{self._pending} events are waiting to be committed; retry shortly")
            self._pending += job.size
        self._queue.put(job)

    def _run(self) -> None:
        stopping = False
        while not stopping:
            item = self._queue.get()
            if item is _STOP:
                break
            group = [item]
            size = item.size  # type: ignore[attr-defined]
            while size < self.max_group_events:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stopping = True
                    break
                group.append(item)
                size += item.size  # type: ignore[attr-defined]
            self._commit(group)  # type: ignore[arg-type]
        self._fail_queued()

    def _commit(self, group: list[_Job]) -> None:
        results: list[Result | RequestError] = []
        error: StoreError | None = None
        with self.ledger.lock:
            try:
                if self._broken:
                    self._reload()
                self.store.begin()
                self._evict()  # expired rows go before the group, so a late label finds its prediction expired
                results = [self._apply_alone(job) for job in group]
                self._evict()  # surplus rows go after it, so the store never ends a commit over its bounds
                self.store.save_series(self.ledger.take_dirty())
                self.store.commit()
                self.ledger.publish()
            except Exception as exc:
                # the answer names the failure's type only: an exception's text could quote an event
                error = exc if isinstance(exc, StoreError) else StoreError(f"internal error ({type(exc).__name__})")
                log.error("commit of %d requests failed, nothing of them was kept: %s", len(group), error)
                if not isinstance(exc, StoreError):
                    _log_frames(exc)
                self._recover()
        with self._pending_lock:
            self._pending -= sum(job.size for job in group if job.future is not None)
        _settle([(job, results[i] if error is None else error) for i, job in enumerate(group)])

    def _evict(self) -> None:
        for kind, n in self.store.evict(self.clock()).items():
            if n:
                self.ledger.inc(M.EVICTIONS, (kind,), n)

    def _apply_alone(self, job: _Job) -> Result | RequestError:
        """Apply one request in a savepoint; what it cannot apply is undone and answered, not raised."""
        self.ledger.checkpoint()
        try:
            with self.store.isolated():
                result = self._apply(job)
        except StoreError:
            self.ledger.release()  # the whole group fails and the ledger is reloaded
            raise
        except Exception as exc:
            self.ledger.undo()
            return _refusal(job, exc)
        self.ledger.release()
        return result

    def _apply(self, job: _Job) -> Result:
        if job.rejected is not None:
            self.applier.count(job.rejected[0], "rejected", job.rejected[1])
            return Result(0, 0)
        accepted = self.applier.apply(job.events, job.received) if job.events else 0
        for alert in job.alerts:
            accepted += self.applier.alert(alert, job.received)
        return Result(accepted, len(job.events) + len(job.alerts) - accepted)

    def _recover(self) -> None:
        try:
            self.store.rollback()
            self._reload()
        except Exception as exc:  # the store is gone for now: stay not ready, retry on the next group
            self._broken = True
            log.error("store unavailable, reload failed: %s", exc)

    def _reload(self) -> None:
        self.ledger.load(self.store.load_series())
        self._broken = False

    def _fail_queued(self) -> None:
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if isinstance(item, _Job):
                _settle([(item, StoreError("the sidecar is shutting down"))])


def _refusal(job: _Job, exc: Exception) -> RequestError:
    """The 422 for a request undone alone; its events are counted as rejected by the handler."""
    kinds = Counter([e.kind for e in job.events] + [ALERT_KIND] * len(job.alerts))
    kind = kinds.most_common(1)[0][0] if kinds else ALERT_KIND
    if isinstance(exc, Contradiction):
        return RequestError(422, f"body: {exc.field} {exc.why}; nothing of this request was kept",
                            [(["body", exc.field], exc.why)], kind, job.size)
    _log_frames(exc)
    return RequestError(422, f"body: could not be applied (internal {type(exc).__name__}, a bug worth reporting); "
                             "nothing of this request was kept and retrying it will not help", (), kind, job.size)


def _log_frames(exc: BaseException) -> None:
    """Where an unexpected exception came from, never its message: messages can quote an event."""
    frames = "".join(traceback.format_list(traceback.extract_tb(exc.__traceback__)))
    log.error("unexpected %s while applying a request (its message is not logged):\n%s", type(exc).__name__, frames)


def _settle(outcomes: list[tuple[_Job, Result | BaseException]]) -> None:
    """Resolve the waiting requests: thread futures at once, asyncio futures with one wake-up per loop."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Result], Result | BaseException]]] = {}
    for job, outcome in outcomes:
        future = job.future
        if isinstance(future, asyncio.Future):
            by_loop.setdefault(future.get_loop(), []).append((future, outcome))
        elif future is not None:
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)
    for loop, pairs in by_loop.items():
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: nobody waits any more
            loop.call_soon_threadsafe(_resolve, pairs)


def _resolve(pairs: list[tuple[asyncio.Future[Result], Result | BaseException]]) -> None:
    for future, outcome in pairs:
        if future.done():
            continue  # the request was cancelled (client gone)
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)
