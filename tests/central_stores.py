"""Start the central-store side of a global view on 127.0.0.1, each stopped by its pid.

A central Prometheus that takes remote writes and evaluates the rules,
Prometheus in agent mode scraping and remote-writing, VictoriaMetrics (single
node) and vmalert. Every server keeps its data in its own temporary directory,
removed by ``stop()``; the handles answer Prometheus's query API.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
import urllib.request
from collections.abc import Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml

from aivitals.codegen.promserver import PrometheusError, PrometheusHandle, find_binary, free_port, launch

#: How far back the central Prometheus accepts samples out of order: two agents catching up
#: on a month of history do not arrive in step, and the head takes only the last hour in order.
OUT_OF_ORDER_WINDOW = "40d"
#: VictoriaMetrics keeps anything younger than this (its default, one month, is shorter than the data).
VM_RETENTION = "100d"


def every_group_at_the_global_interval(rule_files: Sequence[Path], into: Path) -> list[Path]:
    """Copies of ``rule_files`` whose groups carry no ``interval`` (so the store's own applies); rules untouched.

    The long groups' 5m would keep a test waiting minutes for a first evaluation.
    """
    into.mkdir(parents=True, exist_ok=True)
    out = []
    for path in rule_files:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        for group in document["groups"]:
            group.pop("interval", None)
        (into / path.name).write_text(yaml.safe_dump(document, sort_keys=True), encoding="utf-8")
        out.append(into / path.name)
    return out


def binary(name: str) -> str:
    path = shutil.which(name)
    if not path:
        raise PrometheusError(f"no {name} binary: run scripts/test.sh (it installs the Debian package)")
    return path


def _workdir(kind: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=f"aivitals-{kind}-"))


def backfill(openmetrics: str, data: Path) -> None:
    """Write ``openmetrics`` (samples with timestamps) as TSDB blocks into ``data``, with promtool."""
    data.mkdir(parents=True, exist_ok=True)
    source = data.parent / "history.om"
    source.write_text(openmetrics, encoding="utf-8")
    promtool = str(Path(find_binary()).with_name("promtool"))
    if not Path(promtool).exists():
        promtool = binary("promtool")
    result = subprocess.run([promtool, "tsdb", "create-blocks-from", "openmetrics", "--quiet", str(source), str(data)],
                            capture_output=True, text=True, timeout=300)
    if result.returncode:
        raise PrometheusError(f"promtool could not backfill: {result.stderr[-2000:]}")
    source.unlink()


def start_central_prometheus(rule_files: Sequence[Path], history: str = "", interval: str = "1s",
                             port: int | None = None) -> PrometheusHandle:
    """Prometheus with the remote-write receiver on, evaluating ``rule_files`` every ``interval``; it scrapes nothing.

    ``history`` (OpenMetrics) is backfilled into its storage before it starts.
    """
    workdir, port = _workdir("central"), port or free_port()
    if history:
        backfill(history, workdir / "data")
    lines = ["global:", f"  evaluation_interval: {interval}", "storage:", "  tsdb:",
             f"    out_of_order_time_window: {OUT_OF_ORDER_WINDOW}", "rule_files:"]
    lines += [f"  - '{path}'" for path in rule_files]
    (workdir / "prometheus.yml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return launch([find_binary(), f"--config.file={workdir / 'prometheus.yml'}",
                    f"--storage.tsdb.path={workdir / 'data'}", "--storage.tsdb.retention.time=100d",
                    "--web.enable-remote-write-receiver", f"--web.listen-address=127.0.0.1:{port}"],
                   workdir, "/-/ready", port)


def start_agent(targets: Sequence[str], remote_writes: Sequence[str], external_labels: Mapping[str, str], *,
                scrape_interval: str = "100ms") -> PrometheusHandle:
    """Prometheus in agent mode: scrapes ``targets`` (their labels and timestamps honoured), remote-writes to each URL.

    A short batch deadline so samples reach the central stores within a second or two.
    """
    workdir, port = _workdir("agent"), free_port()
    lines = ["global:", f"  scrape_interval: {scrape_interval}", f"  scrape_timeout: {scrape_interval}",
             "  external_labels:"]
    lines += [f"    {key}: '{value}'" for key, value in external_labels.items()]
    lines += ["scrape_configs:", "  - job_name: aivitals", "    honor_labels: true", "    honor_timestamps: true",
              "    static_configs:", "      - targets:"]
    lines += [f"          - '{target}'" for target in targets]
    lines += ["remote_write:"]
    for url in remote_writes:
        lines += [f"  - url: '{url}'", "    queue_config:", "      batch_send_deadline: 1s",
                  "      min_backoff: 100ms", "      max_backoff: 1s"]
    (workdir / "agent.yml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return launch([find_binary(), "--enable-feature=agent", f"--config.file={workdir / 'agent.yml'}",
                    f"--storage.agent.path={workdir / 'wal'}", f"--web.listen-address=127.0.0.1:{port}"],
                   workdir, "/-/ready", port)


def start_victoria_metrics(port: int | None = None) -> PrometheusHandle:
    """Single-node VictoriaMetrics taking remote writes at ``/api/v1/write``.

    Backfill settings: no response cache (history arrives after the first queries)
    and no latency offset (so a query at "now" sees the last sample written). Samples with
    the same timestamp are kept once (an agent forwards a target's repeated timestamp).
    """
    workdir, port = _workdir("victoria-metrics"), port or free_port()
    return launch([binary("victoria-metrics"), f"-storageDataPath={workdir / 'data'}",
                    f"-retentionPeriod={VM_RETENTION}", f"-httpListenAddr=127.0.0.1:{port}",
                    "-search.disableCache", "-search.latencyOffset=0s", "-dedup.minScrapeInterval=1ms"],
                   workdir, "/health", port)


def vm_import(store: PrometheusHandle, text: str) -> None:
    """Push samples in Prometheus's text format (timestamps in ms) through VictoriaMetrics' import API."""
    request = urllib.request.Request(f"{store.url}/api/v1/import/prometheus", data=text.encode(), method="POST")
    with urllib.request.urlopen(request, timeout=120) as response:
        if response.status >= 300:
            raise PrometheusError(f"victoria-metrics refused the import: {response.status}")


def start_vmalert(rule_files: Sequence[Path], store: str, notifier: str, interval: str = "1s") -> PrometheusHandle:
    """vmalert evaluating ``rule_files`` against ``store`` and writing recorded series back to it."""
    workdir, port = _workdir("vmalert"), free_port()
    argv = [binary("vmalert"), f"-datasource.url={store}", f"-remoteWrite.url={store}",
            f"-remoteWrite.flushInterval={interval}", f"-evaluationInterval={interval}",
            f"-notifier.url={notifier}", f"-httpListenAddr=127.0.0.1:{port}"]
    argv += [f"-rule={path}" for path in rule_files]
    return launch(argv, workdir, "/health", port)


class Notifier:
    """An Alertmanager stand-in that accepts and counts alert posts: vmalert needs somewhere to send.

    The narrowest seam: nothing here is under test but the rules' evaluation.
    """

    def __init__(self) -> None:
        self.posts = 0
        notifier = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                notifier.posts += 1
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.port = free_port()
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
