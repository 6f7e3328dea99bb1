"""A small stand-in for the demo: serves the rule scenario's catalogue series, counters growing in real time.

Used by the live Prometheus test when ``aivitals.demo`` is not there yet.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import MetricsHandler
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from aivitals.codegen.promserver import free_port
from aivitals.codegen.rules.scenario import series

#: Series the exporter leaves out: recording-rule outputs that other rules produce.
RECORDED = ":"


class ScenarioCollector(Collector):
    """Gauges at their value; counters at rate x seconds since start (so rates match the scenario)."""

    def __init__(self, clock: Any = time.monotonic, models: tuple[str, ...] = ("m1",)) -> None:
        self._clock = clock
        self._start = clock()
        self._models = models

    def collect(self) -> Iterator[Metric]:
        elapsed = self._clock() - self._start + 1.0
        families: dict[str, Metric] = {}
        for s in series():
            if RECORDED in s.name:
                continue
            family = families.setdefault(s.name, Metric(s.name, f"scenario series {s.name}", "untyped"))
            for model in self._models if "model" in s.labels else (None,):
                labels = {**s.labels, "model": model} if model else s.labels
                family.add_sample(s.name, labels, s.value * elapsed if s.counter else s.value)
        yield from families.values()


class Exporter:
    """Serves /metrics on 127.0.0.1 in a thread; ``stop()`` shuts it down."""

    def __init__(self, models: tuple[str, ...] = ("m1",), extra: tuple[Collector, ...] = ()) -> None:
        self.registry = CollectorRegistry()
        self.registry.register(ScenarioCollector(models=models))
        for collector in extra:
            self.registry.register(collector)
        self.port = free_port()
        handler = MetricsHandler.factory(self.registry)
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
