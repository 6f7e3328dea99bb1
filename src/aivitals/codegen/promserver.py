"""Start a throwaway Prometheus loaded with aivitals rules, for the demo and the tests.

It listens on 127.0.0.1 only, keeps its data in a temporary directory, and is
stopped by its pid; nothing outlives ``stop()``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: How often the test Prometheus scrapes and evaluates: fast, so data shows within seconds.
FAST_INTERVAL = "1s"
READY_TIMEOUT_S = 30.0
#: A group's ``interval`` key: first in its list item (sorted keys) or further down it.
_FIRST_INTERVAL = re.compile(r"^- interval: \S+\n  ", re.MULTILINE)
_LATER_INTERVAL = re.compile(r"^  interval: \S+\n", re.MULTILINE)


class PrometheusError(RuntimeError):
    """Prometheus could not be found or did not start; the message says why."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def find_binary() -> str:
    """``$AIVITALS_PROMETHEUS`` or ``prometheus`` on the PATH."""
    candidate = os.environ.get("AIVITALS_PROMETHEUS") or shutil.which("prometheus")
    if not candidate:
        raise PrometheusError("no prometheus binary: install it (apt-get install prometheus) or set "
                              "AIVITALS_PROMETHEUS to its path")
    return candidate


#: The log every server started here writes, in its work directory.
LOG_NAME = "server.log"


@dataclass
class PrometheusHandle:
    """A running Prometheus: its URL, and ``stop()`` to end it and remove its data."""

    url: str
    pid: int
    process: subprocess.Popen[bytes]
    workdir: Path

    def log_tail(self, chars: int = 3000) -> str:
        """The end of the server's log (what it said before it failed)."""
        path = self.workdir / LOG_NAME
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""

    def query(self, expr: str) -> list[dict[str, Any]]:
        """The instant vector ``expr`` evaluates to now; raises PrometheusError if the query fails."""
        url = f"{self.url}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
        with urllib.request.urlopen(url, timeout=10) as response:
            body = json.load(response)
        if body.get("status") != "success":
            raise PrometheusError(f"{expr}: {body}")
        return list(body["data"]["result"])

    def scalar(self, expr: str) -> float | None:
        """The value of a one-element result, or None when it is empty."""
        result = self.query(expr)
        return float(result[0]["value"][1]) if result else None

    def wait_for(self, expr: str, expected: float, timeout: float = 60.0, rel: float = 1e-9) -> float | None:
        """Poll ``expr`` (never sleep a fixed time) until it equals ``expected``; the last value seen."""
        deadline = time.monotonic() + timeout
        value = None
        while time.monotonic() < deadline:
            try:
                value = self.scalar(expr)
            except OSError:
                value = None
            if value is not None and abs(value - expected) <= rel * max(abs(expected), 1.0):
                return value
            time.sleep(0.5)
        return value

    def stop(self) -> None:
        if self.process.poll() is None:
            os.kill(self.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> PrometheusHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _config(rule_files: list[Path], targets: Sequence[str], interval: str, job: str) -> str:
    lines = ["global:", f"  scrape_interval: {interval}", f"  evaluation_interval: {interval}", "rule_files:"]
    lines += [f"  - '{path}'" for path in rule_files] or ["  []"]
    lines += ["scrape_configs:", f"  - job_name: '{job}'", "    static_configs:", "      - targets:"]
    lines += [f"          - '{target}'" for target in targets]
    return "\n".join(lines) + "\n"


def _copy_rules(rules_dir: Path, workdir: Path, interval: str | None) -> list[Path]:
    """The rule files, copied; with ``interval``, every group is evaluated at it (long groups too)."""
    out = []
    for source in sorted(rules_dir.glob("*.yaml")):
        target = workdir / "rules" / source.name
        target.parent.mkdir(exist_ok=True)
        text = source.read_text(encoding="utf-8")
        if interval:
            # group keys sit at the top of each list item; rules carry no interval
            text = _LATER_INTERVAL.sub("", _FIRST_INTERVAL.sub("- ", text))
        target.write_text(text, encoding="utf-8")
        out.append(target)
    return out


def start_prometheus(rules_dir: str | Path | None, targets: Sequence[str], port: int | None = None, *,
                     interval: str = FAST_INTERVAL, job: str = "aivitals",
                     same_interval_for_all_groups: bool = True) -> PrometheusHandle:
    """Start Prometheus scraping ``targets`` (host:port) with every ``*.yaml`` directly in ``rules_dir``.

    Scrapes and evaluations run every ``interval`` (1s: data shows within seconds); groups that
    production evaluates less often run at it too unless ``same_interval_for_all_groups`` is False.
    Returns once the server answers ready; raises PrometheusError with its log otherwise.
    """
    binary = find_binary()
    port = port or free_port()
    workdir = Path(tempfile.mkdtemp(prefix="aivitals-prometheus-"))
    rules = _copy_rules(Path(rules_dir), workdir, interval if same_interval_for_all_groups else None) if (
        rules_dir) else []
    config = workdir / "prometheus.yml"
    config.write_text(_config(rules, targets, interval, job), encoding="utf-8")
    return launch([binary, f"--config.file={config}", f"--storage.tsdb.path={workdir / 'data'}",
                   f"--web.listen-address=127.0.0.1:{port}", "--storage.tsdb.retention.time=1d"],
                  workdir, "/-/ready", port)


def launch(argv: Sequence[str], workdir: Path, ready_path: str, port: int) -> PrometheusHandle:
    """Start ``argv`` (a server listening on 127.0.0.1:``port``) logging into ``workdir``; return once
    ``ready_path`` answers 200, else stop it and raise PrometheusError with the log's tail."""
    log = (workdir / LOG_NAME).open("wb")
    process = subprocess.Popen(list(argv), stdout=log, stderr=subprocess.STDOUT, cwd=workdir)
    log.close()
    handle = PrometheusHandle(f"http://127.0.0.1:{port}", process.pid, process, workdir)
    name = Path(argv[0]).name
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            text = handle.log_tail()
            handle.stop()
            raise PrometheusError(f"{name} exited with {process.returncode}:\n{text}")
        try:
            with urllib.request.urlopen(f"{handle.url}{ready_path}", timeout=1) as response:
                if response.status == 200:
                    return handle
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    text = handle.log_tail()
    handle.stop()
    raise PrometheusError(f"{name} did not become ready within {READY_TIMEOUT_S:.0f}s:\n{text}")
