"""Counts of NVML and psutil reads that failed and were skipped, by field.

One object per registry: the GPU and host collectors share it so that
``aivitals_collector_errors_total`` is exported once, whichever collectors run.
Each collector declares its fields when it starts reading, and they are
exported at 0 from then on: a counter that first appears at 1 shows no
``rate()``, so the first failure would otherwise go unseen by alerts.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from ..families import family, spec
from ..rendered import Line, RenderedFamily

ERRORS_METRIC = "aivitals_collector_errors_total"


class CollectorErrors(Collector):
    """A thread-safe counter per failed field; a collector in its own right."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, float] = {}
        self._lines: dict[str, Line] = {}

    def declare(self, fields: tuple[str, ...]) -> None:
        """Export ``fields`` at 0 until they fail (a collector's fixed set, once it is reading)."""
        with self._lock:
            for field in fields:
                self._counts.setdefault(field, 0.0)

    def inc(self, field: str) -> None:
        """Count one failed read of ``field`` (a name from a fixed set in the collector's code)."""
        with self._lock:
            self._counts[field] = self._counts.get(field, 0.0) + 1.0

    def describe(self) -> Iterator[Metric]:
        yield family(ERRORS_METRIC, unit=True)

    def collect(self) -> Iterator[Metric]:
        errors = RenderedFamily(spec(ERRORS_METRIC))
        with self._lock:
            counts = sorted(self._counts.items())
        lines = self._lines
        for field, count in counts:
            line = lines.get(field)
            if line is None:
                line = lines[field] = errors.spec.line((field,))
            errors.rows.append((line, count))
        yield errors
