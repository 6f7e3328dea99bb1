"""Gauges PromQL cannot derive from counters: ROC-AUC, log loss, distinct active users, probe results.

They are computed from the store and kept for ``derived_refresh_seconds``. A
scrape never waits for a recomputation: once there is a result, a stale one is
served while a background thread computes the next (at a million labelled
predictions that takes seconds, and a scrape that waits for it can pass
Prometheus's scrape timeout, which marks every sidecar series stale). The next
recomputation starts no sooner than ``COST_FACTOR`` times the last one took, so
a large store costs a bounded share of a core. Only the first scrape, and every
scrape when ``derived_refresh_seconds`` is 0, computes in the request.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..stats import StatsError, log_loss, roc_auc
from . import probes
from .ledger import Ledger
from .settings import WINDOW_SECONDS, Settings
from .store import EventStore, StoreError

log = logging.getLogger("aivitals.sidecar")

#: A recomputation starts no sooner than this many times the last one took: at most about a fifth of a core.
COST_FACTOR = 4.0

#: Windows of aivitals_active_users, from the catalogue's narrowed label values.
ACTIVE_WINDOWS = ("1d", "7d", "28d")


def window_auc(scores: np.ndarray, positives: np.ndarray) -> float | None:
    """``aivitals.stats.roc_auc`` of one window's labelled scores; None where it is undefined (one class or none)."""
    try:
        return roc_auc(positives, scores)
    except StatsError:
        return None


def window_log_loss(scores: np.ndarray, positives: np.ndarray) -> float | None:
    """``aivitals.stats.log_loss`` of one window's labelled scores; None for an empty window (or a score outside 0..1,
    which validation keeps out of the store)."""
    if len(scores) == 0:
        return None
    try:
        return log_loss(positives, scores)
    except StatsError:
        return None


@dataclass
class Derived:
    """One computation's results."""

    roc_auc: dict[tuple[str, str], float] = field(default_factory=dict)
    log_loss: dict[tuple[str, str], float] = field(default_factory=dict)
    active_users: dict[str, int] = field(default_factory=dict)
    #: (suite, suite_version, model, model_version, category, release) -> (attempts, successes)
    probes: dict[tuple[str, str, str, str, str, str], tuple[int, int]] = field(default_factory=dict)


class DerivedGauges:
    """Computes and keeps the in-process gauges; recomputes stale ones in the background."""

    def __init__(self, store: EventStore, ledger: Ledger, settings: Settings, clock: Callable[[], float]) -> None:
        self.store = store
        self.ledger = ledger
        self.settings = settings
        self.clock = clock
        self._lock = threading.Lock()
        self._cached: Derived | None = None
        self._at = 0.0
        #: Seconds (monotonic) the last computation took.
        self._cost = 0.0
        self._refreshing: threading.Thread | None = None
        self._closed = False

    def get(self) -> Derived:
        """The kept figures; computed here only when there are none yet (or refresh is 0), else a stale set is
        served and the next one computed in the background. The last good ones (or none) if the store fails."""
        with self._lock:
            now = self.clock()
            if self._cached is None or self.settings.derived_refresh_seconds == 0 or now < self._at:
                return self._compute_here(now)
            if self._refreshing is None and not self._closed and now - self._at >= max(
                    self.settings.derived_refresh_seconds, COST_FACTOR * self._cost):
                self._refreshing = threading.Thread(target=self._refresh, args=(now,), daemon=True,
                                                    name="aivitals-sidecar-derived")
                self._refreshing.start()
            return self._cached

    def _compute_here(self, now: float) -> Derived:
        try:
            self._store_result(now, self._timed(now))
        except StoreError as exc:  # a scrape still shows every counter
            log.warning("computed gauges skipped, the store could not be read: %s", exc)
            return self._cached or Derived()
        assert self._cached is not None
        return self._cached

    def _refresh(self, now: float) -> None:
        result: Derived | None = None
        try:
            result = self._timed(now)
        except StoreError as exc:
            log.warning("computed gauges not refreshed, the store could not be read: %s", exc)
        except Exception as exc:  # a background thread: say what failed (never the message), keep the last good
            log.error("computed gauges not refreshed: %s", type(exc).__name__)
        with self._lock:
            if result is not None and not self._closed:
                self._store_result(now, result)
            self._refreshing = None

    def _timed(self, now: float) -> Derived:
        started = time.monotonic()
        result = self._compute(now)
        self._cost = time.monotonic() - started
        return result

    def _store_result(self, now: float, result: Derived) -> None:
        self._cached, self._at = result, now

    def close(self) -> None:
        """Stop refreshing (before the store closes) and wait for a refresh under way."""
        with self._lock:
            self._closed = True
            running = self._refreshing
        if running is not None:
            running.join()

    def _compute(self, now: float) -> Derived:
        out = Derived()
        windows = sorted(self.settings.quality_windows, key=WINDOW_SECONDS.__getitem__)
        if windows:
            rows = self.store.labelled_scores(now - WINDOW_SECONDS[windows[-1]])
            by_model: dict[str, list[tuple[float, int, float]]] = defaultdict(list)
            for model, score, positive, at in rows:
                by_model[self.ledger.fold("model", model)].append((score, positive, at))
            for model, data in by_model.items():
                arr = np.asarray(data, dtype=np.float64)
                for window in windows:
                    sel = arr[arr[:, 2] >= now - WINDOW_SECONDS[window]]
                    auc = window_auc(sel[:, 0], sel[:, 1])
                    loss = window_log_loss(sel[:, 0], sel[:, 1])
                    if auc is not None:
                        out.roc_auc[(model, window)] = auc
                    if loss is not None:
                        out.log_loss[(model, window)] = loss
        counts = self.store.active_users([now - WINDOW_SECONDS[w] for w in ACTIVE_WINDOWS])
        out.active_users = dict(zip(ACTIVE_WINDOWS, counts, strict=True))
        out.probes = {labels: (attempts, successes)
                      for labels, attempts, successes in probes.exported(self.store.read_meta)}
        return out
