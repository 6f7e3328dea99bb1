"""Gauges PromQL cannot derive from counters: ROC-AUC, log loss, distinct active users, probe results.

They are computed from the store at scrape time and cached for a few seconds,
so a burst of scrapes costs one query.
"""

from __future__ import annotations

import logging
import threading
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
    """Computes and caches the in-process gauges."""

    def __init__(self, store: EventStore, ledger: Ledger, settings: Settings, clock: Callable[[], float]) -> None:
        self.store = store
        self.ledger = ledger
        self.settings = settings
        self.clock = clock
        self._lock = threading.Lock()
        self._cached: Derived | None = None
        self._at = 0.0

    def get(self) -> Derived:
        """The cached figures, recomputed when stale; the last good ones (or none) if the store cannot be read."""
        with self._lock:
            now = self.clock()
            if self._cached is None or now - self._at >= self.settings.derived_refresh_seconds or now < self._at:
                try:
                    self._cached = self._compute(now)
                except StoreError as exc:  # a scrape still shows every counter
                    log.warning("computed gauges skipped, the store could not be read: %s", exc)
                    return self._cached or Derived()
                self._at = now
            return self._cached

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
