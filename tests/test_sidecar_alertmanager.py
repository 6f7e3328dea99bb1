"""A real Alertmanager routes a firing and then resolved alert to the sidecar's webhook."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from _sidecar import free_port, get, running_sidecar, sample

pytestmark = [
    pytest.mark.prometheus,
    pytest.mark.skipif(shutil.which("prometheus-alertmanager") is None, reason="prometheus-alertmanager not installed"),
]

CONFIG = """
global:
  resolve_timeout: 1h
route:
  receiver: aivitals
  group_by: [alertname]
  group_wait: 100ms
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: aivitals
    webhook_configs:
      - url: http://127.0.0.1:{port}/v1/alertmanager
        send_resolved: true
"""


@contextlib.contextmanager
def alertmanager(tmp_path: Path, sidecar_port: int) -> Iterator[int]:
    port = free_port()
    config = tmp_path / "alertmanager.yml"
    config.write_text(CONFIG.format(port=sidecar_port))
    proc = subprocess.Popen(
        ["prometheus-alertmanager", f"--config.file={config}", f"--storage.path={tmp_path / 'am'}",
         f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: _ready(port), "Alertmanager ready")
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _ready(port: int) -> bool:
    with contextlib.suppress(OSError):
        return get(port, "/-/ready", timeout=1)[0] == 200
    return False


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def post_alert(port: int, starts: dt.datetime, ends: dt.datetime | None = None) -> None:
    alert = {"labels": {"alertname": "AivitalsTest", "severity": "critical", "service": "desk"},
             "annotations": {"summary": "test alert"}, "startsAt": starts.isoformat(),
             "generatorURL": "http://127.0.0.1/graph"}
    if ends is not None:
        alert["endsAt"] = ends.isoformat()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/v2/alerts", data=json.dumps([alert]).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200


def test_alertmanager_opens_and_resolves_an_incident_with_time_to_detect(tmp_path: Path) -> None:
    with running_sidecar(tmp_path / "s.db") as sidecar, alertmanager(tmp_path, sidecar) as am:
        def metrics() -> str:
            return get(sidecar, "/metrics")[1].decode()

        started = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=120)
        post_alert(am, started)
        wait_for(lambda: sample(metrics(), "aivitals_incidents_open", {"severity": "critical"}) == 1,
                 "the firing notification")
        text = metrics()
        opened = {"severity": "critical", "incident_source": "alertmanager"}
        assert sample(text, "aivitals_incidents_total", opened) == 1
        assert sample(text, "aivitals_incident_time_to_detect_seconds_count", {"severity": "critical"}) == 1
        ttd = sample(text, "aivitals_incident_time_to_detect_seconds_sum", {"severity": "critical"})
        assert ttd is not None and 120 <= ttd < 150

        post_alert(am, started, dt.datetime.now(dt.timezone.utc))
        wait_for(lambda: sample(metrics(), "aivitals_incidents_open", {"severity": "critical"}) == 0,
                 "the resolved notification")
        text = metrics()
    assert sample(text, "aivitals_incident_time_to_resolve_seconds_count", {"severity": "critical"}) == 1
    assert sample(text, "aivitals_incidents_total", opened) == 1
    assert sample(text, "aivitals_events_total", {"event_kind": "alert", "result": "accepted"}) == 2
