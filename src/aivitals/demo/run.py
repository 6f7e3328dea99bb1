"""``aivitals demo``: the simulated service, its /metrics, and the executive tiles live."""

from __future__ import annotations

import json
import math
import random
import signal
import sys
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TextIO

from prometheus_client import CollectorRegistry

from ..collectors import register_collectors
from ..drift import DriftRecorder
from ..exposition import start_http_server
from ..tracker import Tracker
from .service import DEMO_PRICES, DemoService, Shape, SimClock, reference_profile
from .terminal import plain_line, render
from .tiles import Snapshot, executive_tiles, snapshot, total

SERVICE = "support-assistant"


@dataclass
class DemoOptions:
    duration: float = 0.0  # real seconds of traffic; 0 runs until Ctrl-C
    port: int = 9464
    seed: int = 1
    speed: float = 60.0
    plain: bool = False
    hold: bool = False  # keep serving /metrics after the traffic stops, until Ctrl-C or SIGTERM
    refresh: float = 1.0
    window: float = 30.0  # real seconds the tiles look back over
    rate: float = 1.5  # simulated tickets per second at the daily peak, before spikes
    prometheus: bool = False


class Demo:
    """Runs the traffic in worker threads and the tiles in the calling thread."""

    def __init__(self, options: DemoOptions, out: TextIO = sys.stdout) -> None:
        self.options = options
        self.out = out
        self.registry = CollectorRegistry()
        self.clock = SimClock(options.speed)
        self.tracker = Tracker(self.registry, service=SERVICE, prices=DEMO_PRICES, clock=self.clock)
        register_collectors(self.registry)  # the host's CPU and memory; GPUs where NVML finds any
        drift = DriftRecorder(reference_profile(options.seed), "ticket-router-v3", registry=self.registry,
                              feature_names=("ticket_length", "customer_tenure_days", "channel"))
        self.service = DemoService(self.tracker, self.clock, options.seed, drift)
        self.shape = Shape(options.rate, options.seed)
        self.tiles = executive_tiles()
        self.history: deque[tuple[float, Snapshot]] = deque()
        self.stop = threading.Event()
        self.tickets = 0
        self.in_flight = threading.Semaphore(200)  # never let a slow machine queue tickets without bound
        self.pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="aivitals-demo")
        self._server: Any = None

    def _dispatch(self) -> None:
        """Send tickets at the simulated rate (Poisson arrivals per 50 ms tick)."""
        rnd = random.Random(self.options.seed)
        tick = 0.05
        last = self.clock()
        while not self.stop.wait(tick):
            now = self.clock()
            expected = self.shape.rate(now) * (now - last)
            last = now
            for _ in range(_poisson(rnd, expected)):
                if not self.in_flight.acquire(blocking=False):
                    break
                future = self.pool.submit(self.service.handle_ticket, self.tickets)
                future.add_done_callback(lambda _: self.in_flight.release())
                self.tickets += 1

    def _refresh(self) -> str:
        now = time.monotonic()
        snap = snapshot(self.registry)
        self.history.append((now, snap))
        while len(self.history) > 2 and now - self.history[1][0] >= self.options.window:
            self.history.popleft()
        then = self.history[0][1] if len(self.history) > 1 else {}
        for tile in self.tiles:
            tile.update(snap, then)
        sim = self.clock()
        clock_text = f"day {int(sim // 86400) + 1} {int(sim % 86400 // 3600):02d}:{int(sim % 3600 // 60):02d}"
        if self.options.plain:
            return plain_line(self.tiles, clock_text)
        requests = total(snap, "aivitals_requests_total")
        spend = total(snap, "aivitals_cost_usd_total")
        header = (f"aivitals demo · {SERVICE} · simulated {clock_text} (x{self.options.speed:g}) · "
                  f"metrics at {self.url}")
        footer = (f"  totals: {requests:,.0f} model calls · ${spend:,.2f} spent · "
                  f"{total(snap, 'aivitals_tokens_total', token_type='input') + total(snap, 'aivitals_tokens_total', token_type='output'):,.0f} tokens"  # noqa: E501
                  "\n  Ctrl-C to stop. The other 24 vitals: aivitals build → dashboards/, alerts/")
        return "\033[H\033[2J" + render(self.tiles, header, footer)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.options.port}/metrics"

    def totals(self) -> dict[str, Any]:
        """What the demo recorded, as Prometheus will report it."""
        self.tracker.flush()
        snap = snapshot(self.registry)
        tokens = {t: total(snap, "aivitals_tokens_total", token_type=t)
                  for t in ("input", "output", "cached_input", "cache_creation", "reasoning")}
        return {"requests_total": total(snap, "aivitals_requests_total"), "tokens_total": tokens,
                "cost_usd_total": total(snap, "aivitals_cost_usd_total"), "tickets": self.tickets}

    def run(self) -> int:
        self._server, _ = start_http_server(self.options.port, "127.0.0.1", self.registry)
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, lambda *_: self.stop.set())
        print(f"aivitals demo: serving {self.url}", file=self.out, flush=True)
        dispatcher = threading.Thread(target=self._dispatch, name="aivitals-demo-dispatch", daemon=True)
        dispatcher.start()
        deadline = time.monotonic() + self.options.duration if self.options.duration > 0 else math.inf
        try:
            while time.monotonic() < deadline and not self.stop.is_set():
                print(self._refresh(), file=self.out, flush=True)
                self.stop.wait(min(self.options.refresh, max(deadline - time.monotonic(), 0)))
        except KeyboardInterrupt:
            pass
        finally:
            self.stop.set()
            dispatcher.join()
            self.pool.shutdown(wait=True, cancel_futures=True)
        print(json.dumps(self.totals(), sort_keys=True), file=self.out, flush=True)
        if self.options.hold:
            self._hold()
        self._server.shutdown()
        return 0

    def _hold(self) -> None:
        """Serve /metrics until Ctrl-C or SIGTERM, so a scraper can read the final totals."""
        done = threading.Event()
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, lambda *_: done.set())
        try:
            while not done.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass


def _poisson(rnd: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 30:
        return max(round(rnd.gauss(mean, math.sqrt(mean))), 0)
    limit, k, product = math.exp(-mean), 0, rnd.random()
    while product > limit:
        k += 1
        product *= rnd.random()
    return k
