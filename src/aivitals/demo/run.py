"""``aivitals demo``: the simulated service, its /metrics, and the executive tiles live."""

from __future__ import annotations

import errno
import json
import math
import random
import signal
import socket
import sys
import tempfile
import threading
import time
import urllib.request
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from ..collectors import register_collectors
from ..drift import DriftRecorder
from ..evaluators.worker import EvaluateConfig
from ..exposition import start_http_server
from ..problems import UserProblem
from ..tracker import Tracker
from .gpu import NAME as GPU_NAME
from .gpu import SimulatedGpu, real_gpu_present
from .service import DEMO_PRICES, DemoService, Shape, SimClock, reference_profile
from .terminal import ENTER_SCREEN, LEAVE_SCREEN, frame, plain_line, render
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
    sidecar: bool = True  # run the sidecar beside the service (needs the sidecar extra)
    sidecar_port: int = 9477


class Demo:
    """Runs the traffic in worker threads and the tiles in the calling thread."""

    def __init__(self, options: DemoOptions, out: TextIO = sys.stdout) -> None:
        self.options = options
        self.out = out
        self.registry = CollectorRegistry()
        self.clock = SimClock(options.speed)
        # evaluation on, sampling nothing by itself: the service hands each simulated answer to the worker
        self.tracker = Tracker(self.registry, service=SERVICE, prices=DEMO_PRICES, clock=self.clock,
                               evaluate=EvaluateConfig(sample_rate=0.0))
        self.gpu: SimulatedGpu | None = None
        self.gpu_note = ""
        if not real_gpu_present() and SimulatedGpu.available():
            self.gpu = SimulatedGpu()
            self.gpu_note = f"no NVIDIA GPU here: the classifier runs on one simulated GPU, {GPU_NAME!r}"
        register_collectors(self.registry, nvml=self.gpu.nvml if self.gpu else None)  # host, and the GPUs
        self.sidecar: Any = None
        self.prometheus: Any = None
        self.feed: Any = None
        self.sidecar_note = ""
        if options.sidecar:
            self._start_sidecar()
        drift = DriftRecorder(reference_profile(options.seed), "ticket-router-v3", registry=self.registry,
                              feature_names=("ticket_length", "customer_tenure_days", "channel"))
        self.service = DemoService(self.tracker, self.clock, options.seed, drift, self.feed, self.gpu)
        self.shape = Shape(options.rate, options.seed)
        self.tiles = executive_tiles()
        self.history: deque[tuple[float, float, Snapshot]] = deque()
        self.stop = threading.Event()
        self.terminated = threading.Event()
        self.tickets = 0
        self.in_flight = threading.Semaphore(200)  # never let a slow machine queue tickets without bound
        self.pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="aivitals-demo")
        self._server: Any = None

    def _start_sidecar(self) -> None:
        """The sidecar in this process, on a store in a temporary directory, and the feed that fills it."""
        try:
            from ..sidecar.client import SidecarClient
            from ..sidecar.server import BackgroundSidecar
            from .feed import SidecarFeed, sidecar_settings
        except ImportError:
            self.sidecar_note = "the sidecar needs its extra: pip install 'aivitals[sidecar]'"
            return
        port = self.options.sidecar_port
        if port and not _port_free(port):
            raise UserProblem(f"the sidecar could not listen on 127.0.0.1:{port} (in use?); pass --sidecar-port "
                              "with a free one (0 picks one) or --no-sidecar")
        self._store_dir = tempfile.TemporaryDirectory(prefix="aivitals-demo-")
        store = Path(self._store_dir.name) / "sidecar.db"
        self.sidecar = BackgroundSidecar(sidecar_settings(store, self.options.sidecar_port))
        try:
            self.sidecar_url = self.sidecar.start()
        except OSError:
            self._store_dir.cleanup()
            raise UserProblem(f"the sidecar could not listen on 127.0.0.1:{self.options.sidecar_port} (in use?); "
                              "pass --sidecar-port with a free one (0 picks one) or --no-sidecar") from None
        self.feed = SidecarFeed(SidecarClient(self.sidecar_url), self.options.seed)
        self.feed.start()

    def _start_prometheus(self) -> None:
        """A local Prometheus with the generated rules, scraping the demo and its sidecar."""
        from ..codegen.promserver import PrometheusError, start_prometheus

        try:
            from ..codegen.rules import alert_groups, recording_groups
            from ..codegen.rules.files import dump
        except ImportError:
            print("aivitals demo: --prometheus needs the codegen extra: pip install 'aivitals[codegen]'",
                  file=self.out, flush=True)
            return
        self._rules_dir = tempfile.TemporaryDirectory(prefix="aivitals-demo-rules-")
        rules = Path(self._rules_dir.name)
        (rules / "aivitals-recording.yaml").write_text(dump({"groups": recording_groups()}), encoding="utf-8")
        (rules / "aivitals-alerts.yaml").write_text(dump({"groups": alert_groups()}), encoding="utf-8")
        targets = [f"127.0.0.1:{self.options.port}"]
        if self.sidecar is not None:
            targets.append(self.sidecar_url.removeprefix("http://"))
        try:
            self.prometheus = start_prometheus(rules, targets, interval="5s")
        except PrometheusError as exc:
            print(f"aivitals demo: no Prometheus: {exc}", file=self.out, flush=True)
            return
        print(f"aivitals demo: Prometheus at {self.prometheus.url} with the generated rules and alerts "
              f"({self.prometheus.url}/alerts)", file=self.out, flush=True)

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

    def _snapshot(self) -> Snapshot:
        """The demo's own series and, when it runs, the sidecar's, as one scrape would see them."""
        snap = snapshot(self.registry)
        if self.sidecar is not None:
            try:
                with urllib.request.urlopen(self.sidecar_url + "/metrics", timeout=5) as response:
                    text = response.read().decode()
                for family in text_string_to_metric_families(text):
                    for s in family.samples:
                        snap[(s.name, frozenset(s.labels.items()))] = s.value
            except OSError:
                pass
        return snap

    def _refresh(self) -> str:
        now, sim = time.monotonic(), self.clock()
        snap = self._snapshot()
        self.history.append((now, sim, snap))
        while len(self.history) > 2 and now - self.history[1][0] >= self.options.window:
            self.history.popleft()
        _, sim_then, then = self.history[0] if len(self.history) > 1 else (now, sim, {})
        for tile in self.tiles:
            tile.update(snap, then, sim - sim_then)
        clock_text = f"day {int(sim // 86400) + 1} {int(sim % 86400 // 3600):02d}:{int(sim % 3600 // 60):02d}"
        if self.options.plain:
            return plain_line(self.tiles, clock_text)
        requests = total(snap, "aivitals_requests_total")
        spend = total(snap, "aivitals_cost_usd_total")
        header = (f"aivitals demo · {SERVICE} · simulated {clock_text} (x{self.options.speed:g})\n"
                  f"  /metrics: {self.url}" + (f" · sidecar: {self.sidecar_url}/metrics" if self.sidecar else "")
                  + (f"\n  Prometheus: {self.prometheus.url} (alerts: {self.prometheus.url}/alerts)"
                     if self.prometheus is not None else ""))
        footer = (f"  totals: {requests:,.0f} model calls · ${spend:,.2f} spent · "
                  f"{total(snap, 'aivitals_tokens_total', token_type='input') + total(snap, 'aivitals_tokens_total', token_type='output'):,.0f} tokens"  # noqa: E501
                  "\n  Ctrl-C to stop. The other 24 vitals: aivitals build → dashboards/, alerts/")
        return render(self.tiles, header, footer)

    @property
    def url(self) -> str:
        """Where /metrics is served: the bound port once serving (``--port 0`` picks one), else the asked one."""
        port = self._server.server_port if self._server is not None else self.options.port
        return f"http://127.0.0.1:{port}/metrics"

    def totals(self) -> dict[str, Any]:
        """What the demo recorded, as Prometheus will report it."""
        self.tracker.flush()
        snap = snapshot(self.registry)
        tokens = {t: total(snap, "aivitals_tokens_total", token_type=t)
                  for t in ("input", "output", "cached_input", "cache_creation", "reasoning")}
        totals: dict[str, Any] = {"requests_total": total(snap, "aivitals_requests_total"), "tokens_total": tokens,
                                  "cost_usd_total": total(snap, "aivitals_cost_usd_total"), "tickets": self.tickets}
        if self.feed is not None:
            totals["sidecar_events_sent"] = self.feed.sent
            totals["sidecar_events_failed"] = self.feed.failed
        return totals

    def run(self) -> int:
        try:
            self._server, _ = start_http_server(self.options.port, "127.0.0.1", self.registry)
        except OSError as exc:
            if self.sidecar is not None:
                self.sidecar.stop()
                self._store_dir.cleanup()
            if exc.errno == errno.EADDRINUSE:
                raise UserProblem(f"port {self.options.port} on 127.0.0.1 is in use (another demo?); pass --port "
                                  "with a free one") from None
            raise
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, self._terminate)
        print(f"aivitals demo: serving {self.url}", file=self.out, flush=True)
        if self.sidecar is not None:
            print(f"aivitals demo: sidecar at {self.sidecar_url} (/metrics, /docs)", file=self.out, flush=True)
        elif self.sidecar_note:
            print(f"aivitals demo: {self.sidecar_note}", file=self.out, flush=True)
        if self.gpu_note:
            print(f"aivitals demo: {self.gpu_note}", file=self.out, flush=True)
        if self.gpu is not None:
            self.gpu.start()
        if self.options.prometheus:
            self._start_prometheus()
        dispatcher = threading.Thread(target=self._dispatch, name="aivitals-demo-dispatch", daemon=True)
        dispatcher.start()
        try:
            self._show()
        finally:
            self.stop.set()
            dispatcher.join()
            self.pool.shutdown(wait=True, cancel_futures=True)
            if self.feed is not None:
                self.feed.stop()
        print(json.dumps(self.totals(), sort_keys=True), file=self.out, flush=True)
        try:
            if self.options.hold:
                self._hold()
        finally:
            if self.gpu is not None:
                self.gpu.stop()
            if self.prometheus is not None:
                self.prometheus.stop()
                self._rules_dir.cleanup()
            self._server.shutdown()
            if self.sidecar is not None:
                self.sidecar.stop()
                self._store_dir.cleanup()
        return 0

    def _show(self) -> None:
        """Refresh the tiles until the duration ends, Ctrl-C or SIGTERM: redrawn in place on the alternate
        screen on a terminal (no scrollback), one plain line a refresh otherwise."""
        deadline = time.monotonic() + self.options.duration if self.options.duration > 0 else math.inf
        screen = not self.options.plain
        last = ""
        try:
            if screen:
                self.out.write(ENTER_SCREEN)
            while time.monotonic() < deadline and not self.stop.is_set():
                last = self._refresh()
                if screen:
                    self.out.write(frame(last))
                    self.out.flush()
                else:
                    print(last, file=self.out, flush=True)
                self.stop.wait(min(self.options.refresh, max(deadline - time.monotonic(), 0)))
        except KeyboardInterrupt:
            pass
        finally:
            if screen:
                self.out.write(LEAVE_SCREEN)
                print(last, file=self.out, flush=True)  # the last frame stays in the scrollback

    def _terminate(self, *_: Any) -> None:
        self.terminated.set()
        self.stop.set()

    def _hold(self) -> None:
        """Serve /metrics until Ctrl-C or SIGTERM (one sent earlier counts), so a scraper can read the totals."""
        try:
            while not self.terminated.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass


def _port_free(port: int) -> bool:
    """Whether 127.0.0.1:port can be bound now: checked before a server whose failure would log a traceback."""
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


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
