"""The in-memory mirror of every recorded series, and what changed since the last commit.

The writer changes it while applying a group of events and hands the changed
series to the store in the same transaction; once the transaction commits, it
publishes them. A scrape reads the last published values without taking the
lock, so it never sees half a group and never waits for one (the writer holds
the lock through a whole group's commit, fsync included, and back to back under
load: scrapes that waited for it took up to 30 s). After a failed commit the
ledger is reloaded from the store, which still holds the last committed values.
"""

from __future__ import annotations

import json
import threading
from bisect import bisect_left

from aivitals.catalogue import LABELS, OTHER, Metric, MetricType

from ._metrics import RECORDED_BY_NAME

SeriesKey = tuple[str, tuple[str, ...]]

#: Labels whose values come from events, capped by the catalogue's max_values.
FOLDED_LABELS = ("model", "service")


class Folder:
    """Keeps a label's distinct values under its cap; later values become ``other``."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.known: set[str] = set()
        self._lock = threading.Lock()

    def fold(self, value: str) -> str:
        if value in self.known:
            return value
        with self._lock:
            if len(self.known) < self.cap:
                self.known.add(value)
                return value
        return OTHER


class Ledger:
    """Counters, gauges and histograms by series; histograms hold per-bucket counts, +Inf, then the sum."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._values: dict[SeriesKey, list[float]] = {}
        self._dirty: set[SeriesKey] = set()
        #: The committed values a scrape reads: replaced whole, its lists never changed once in it.
        self._published: dict[SeriesKey, list[float]] = {}
        #: Series handed to the store by ``take_dirty`` and not yet published.
        self._unpublished: set[SeriesKey] = set()
        self.folders = {label: Folder(LABELS[label].max_values) for label in FOLDED_LABELS}
        #: While a request is applied: each series it touched, as it was before (None: it did not exist).
        self._undo: dict[SeriesKey, list[float] | None] | None = None
        self._undo_folders: dict[str, set[str]] = {}

    def fold(self, label: str, value: str) -> str:
        return self.folders[label].fold(value)

    def _series(self, metric: Metric, labels: tuple[str, ...]) -> list[float]:
        key = (metric.name, labels)
        values = self._values.get(key)
        if self._undo is not None and key not in self._undo:
            self._undo[key] = None if values is None else list(values)
        if values is None:
            size = len(metric.buckets) + 2 if metric.type is MetricType.HISTOGRAM else 1
            values = self._values[key] = [0.0] * size
        self._dirty.add(key)
        return values

    def checkpoint(self) -> None:
        """Start recording what changes, so ``undo`` can take back one request of a group."""
        self._undo = {}
        self._undo_folders = {label: set(f.known) for label, f in self.folders.items()}

    def undo(self) -> None:
        """Put back every series (and folded label value) as it was at ``checkpoint``."""
        for key, before in (self._undo or {}).items():
            if before is None:
                del self._values[key]
                self._dirty.discard(key)
            else:
                self._values[key] = before
        for label, known in self._undo_folders.items():
            self.folders[label].known = known
        self.release()

    def release(self) -> None:
        """Keep what changed since ``checkpoint`` and stop recording."""
        self._undo = None
        self._undo_folders = {}

    def inc(self, metric: Metric, labels: tuple[str, ...], amount: float = 1.0) -> None:
        self._series(metric, labels)[0] += amount

    def add(self, metric: Metric, labels: tuple[str, ...], delta: float) -> None:
        """Move a gauge up or down (open incidents)."""
        self._series(metric, labels)[0] += delta

    def set_max(self, metric: Metric, labels: tuple[str, ...], value: float) -> None:
        """Raise a timestamp gauge; an older event never moves it back."""
        series = self._series(metric, labels)
        if value > series[0]:
            series[0] = value

    def observe(self, metric: Metric, labels: tuple[str, ...], value: float) -> None:
        series = self._series(metric, labels)
        series[bisect_left(metric.buckets, value)] += 1.0
        series[-1] += value

    def take_dirty(self) -> dict[str, list[float]]:
        """Changed series, keyed as the store keys them; the change set starts again empty."""
        rows = {json.dumps([name, *labels]): list(self._values[(name, labels)]) for name, labels in self._dirty}
        self._unpublished |= self._dirty
        self._dirty.clear()
        return rows

    def publish(self) -> None:
        """After the store committed what ``take_dirty`` gave it: scrapes see it from now on."""
        published = dict(self._published)
        for key in self._unpublished:
            published[key] = list(self._values[key])
        self._unpublished.clear()
        self._published = published

    def load(self, rows: dict[str, list[float]]) -> None:
        """Replace everything with what the store holds."""
        values: dict[SeriesKey, list[float]] = {}
        for key, data in rows.items():
            name, *labels = json.loads(key)
            metric = RECORDED_BY_NAME.get(name)
            if metric is None or len(labels) != len(metric.labels):
                continue  # a series the catalogue no longer has: kept in the store, not exported
            values[(name, tuple(labels))] = [float(v) for v in data]
        with self.lock:
            self._values = values
            self._dirty.clear()
            self._unpublished.clear()
            self._published = {key: list(data) for key, data in values.items()}
            for folder in self.folders.values():
                folder.known.clear()
            for (name, labels) in values:
                for label, value in zip(RECORDED_BY_NAME[name].labels, labels, strict=True):
                    if label in self.folders and value != OTHER:
                        self.folders[label].known.add(value)

    def snapshot(self) -> dict[SeriesKey, list[float]]:
        """The committed values, without waiting for a commit under way (read-only: shared by scrapes)."""
        return self._published

    def value(self, metric: Metric, labels: tuple[str, ...]) -> list[float] | None:
        """One series' values (tests and the benchmark read through /metrics instead)."""
        with self.lock:
            values = self._values.get((metric.name, labels))
            return None if values is None else list(values)
