"""The rule scenario's world split across two clusters, on a regular time grid: history, then a live tail.

The scenario (``aivitals.codegen.rules.scenario``) holds counters as per-second rates
and gauges as values, with every recorded value worked out by hand. Here the
same world is cut in two: cluster "a" reports ``floor(rate / 2)`` of each
counter and cluster "b" the rest, so only a sum over clusters gives the
scenario's figures; gauges (leader-only and per-node figures) come from "a"
alone.

Counters take a value at every grid point (rate x seconds since the grid
began), so any window the grid fills has the scenario's rate. Rules look back
up to 30 days, but a Prometheus agent forwards only samples newer than its own
start (its remote-write queue skips older WAL records), so the grid's past is
backfilled into the central stores (``history_*``) and the exporters serve
the grid's live tail from the first point after the agents started, each
point from its time on, with its explicit timestamp; gauges carry the scrape's
own time.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aivitals.codegen.promserver import free_port
from aivitals.codegen.rules.scenario import Series, series

CLUSTERS = ("a", "b")
#: The scrape job's name: the agents add it, and the backfilled history carries it too.
JOB = "aivitals"


def share(cluster: str) -> list[Series]:
    """The part of the scenario cluster ``cluster`` reports; the clusters' counters add up to the scenario's."""
    out = []
    for s in series():
        if not s.counter:
            if cluster == CLUSTERS[0]:
                out.append(s)
            continue
        half = float(math.floor(s.value / 2))
        out.append(Series(s.name, s.labels, half if cluster == CLUSTERS[0] else s.value - half))
    return out


def series_count(prefix: str = "aivitals_") -> int:
    """Series named ``prefix...`` the two clusters send together (each cluster's are distinct series)."""
    return sum(1 for cluster in CLUSTERS for s in share(cluster) if s.name.startswith(prefix))


@dataclass(frozen=True)
class Grid:
    """Sample times ``start + i * step`` (unix seconds); points before ``live`` are history."""

    start: int
    step: int
    live: int

    @classmethod
    def live_after(cls, moment: float, history_s: int, step: int, lead_s: int) -> Grid:
        """A grid whose first live point is ``lead_s`` after ``moment``, with ``history_s`` of points before it."""
        first_live = math.ceil(moment) + lead_s
        points = history_s // step + 1
        return cls(first_live - points * step, step, points)

    def at(self, index: int) -> int:
        return self.start + index * self.step

    def latest(self, now: float) -> int:
        return int((now - self.start) // self.step)


def counter_value(s: Series, grid: Grid, index: int) -> float:
    return s.value * (index + 1) * grid.step


def _labels(labels: dict[str, str]) -> str:
    return ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))


def stored_labels(s: Series, cluster: str, target: str) -> dict[str, str]:
    """The labels a series carries in the central store: the agent's job, instance and external label added."""
    return {"job": JOB, "instance": target, **s.labels, "cluster": cluster}


def _history(cluster: str, target: str, grid: Grid) -> Iterator[tuple[str, str, float, int]]:
    for s in share(cluster):
        if s.counter:
            labels = _labels(stored_labels(s, cluster, target))
            for i in range(grid.live):
                yield s.name, labels, counter_value(s, grid, i), grid.at(i)


def history_openmetrics(clusters: dict[str, str], grid: Grid) -> str:
    """Every counter's history in OpenMetrics (seconds), for ``promtool tsdb create-blocks-from openmetrics``."""
    lines = [f"{name}{{{labels}}} {value!r} {t}\n" for cluster, target in clusters.items()
             for name, labels, value, t in _history(cluster, target, grid)]
    return "".join(sorted(lines, key=lambda line: line.split(" ", 1)[0])) + "# EOF\n"


def history_text(clusters: dict[str, str], grid: Grid) -> str:
    """The same history in Prometheus's text format (milliseconds), for VictoriaMetrics' import API."""
    return "".join(f"{name}{{{labels}}} {value!r} {t * 1000}\n" for cluster, target in clusters.items()
                   for name, labels, value, t in _history(cluster, target, grid))


class LiveExporter:
    """Serves one cluster's share on 127.0.0.1: gauges always, counters at the latest live grid point."""

    def __init__(self, cluster: str) -> None:
        self.cluster = cluster
        self.grid: Grid | None = None
        self._world = share(cluster)
        exporter = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = exporter.exposition(time.time()).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.port = free_port()
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def exposition(self, now: float) -> str:
        grid = self.grid
        index = grid.latest(now) if grid else -1
        lines = []
        for s in self._world:
            if not s.counter:
                lines.append(f"{s.name}{{{_labels(s.labels)}}} {s.value!r}\n")
            elif grid is not None and index >= grid.live:
                lines.append(f"{s.name}{{{_labels(s.labels)}}} {counter_value(s, grid, index)!r} "
                             f"{grid.at(index) * 1000}\n")
        return "".join(lines)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
