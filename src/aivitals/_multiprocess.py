"""prometheus_client's multiprocess mode: mirror the tracker's aggregates into per-process mmap files.

Under gunicorn or several uvicorn workers each worker records into its own
aggregates; the scraping process cannot fold another process's buffer, so a
daemon thread (and an exit hook) write each worker's absolute values into the
mmap files that ``prometheus_client.multiprocess.MultiProcessCollector``
reads. A scrape may therefore be up to ``interval`` seconds behind.
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .tracker import Tracker


class MultiprocessMirror:
    """Writes a tracker's samples as multiprocess values, every ``interval`` seconds and at exit."""

    def __init__(self, tracker: Tracker, interval: float = 1.0) -> None:
        from prometheus_client import values

        from ._collector import TrackerCollector

        self._value_class = values.ValueClass
        self._tracker = tracker
        #: One collector for the mirror's life, so its rendered lines are made once.
        self._collector = TrackerCollector(tracker)
        self._values: dict[tuple[str, tuple[tuple[str, str], ...]], Any] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, args=(interval,), name="aivitals-multiprocess",
                                        daemon=True)
        self._thread.start()
        atexit.register(self.sync)

    def _loop(self, interval: float) -> None:
        while not self._stop.wait(interval):
            self.sync()

    def close(self) -> None:
        self._stop.set()
        atexit.unregister(self.sync)

    def sync(self) -> None:
        try:
            self._write(self._collector.collect())  # folds first; counts its own failures
        except Exception as exc:
            self._tracker.health.error("collect", exc)

    def _write(self, families: Iterable[Any]) -> None:
        for family in families:
            if family.type == "counter":
                for s in family.samples:
                    if s.name.endswith("_total"):
                        self._set("counter", family.name, s.name, s.labels, s.value)
            elif family.type == "histogram":
                previous: dict[tuple[tuple[str, str], ...], float] = {}
                for s in family.samples:
                    if s.name.endswith("_bucket"):
                        # the mmap files hold per-bucket counts; the collector re-accumulates them
                        series = tuple(sorted((k, v) for k, v in s.labels.items() if k != "le"))
                        self._set("histogram", family.name, s.name, s.labels, s.value - previous.get(series, 0.0))
                        previous[series] = s.value
                    elif s.name.endswith("_sum"):
                        self._set("histogram", family.name, s.name, s.labels, s.value)

    def _set(self, typ: str, metric: str, name: str, labels: dict[str, str], value: float) -> None:
        key = (name, tuple(labels.items()))
        holder = self._values.get(key)
        if holder is None:
            holder = self._values[key] = self._value_class(typ, metric, name, tuple(labels), tuple(labels.values()),
                                                           "")
        holder.set(value)
