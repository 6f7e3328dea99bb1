"""docs/getting-started.md end to end, with the real parts: the first alert fires and reaches the sidecar.

examples/openai_service.py (the real ``openai`` client, pointed at a stand-in
provider on 127.0.0.1 that echoes the question: the one fake, at the provider's
HTTP API) leaks an e-mail address; a real Prometheus runs examples/prometheus.yml
with the generated rules; a real Alertmanager runs examples/alertmanager.yml;
the sidecar runs examples/sidecar.yaml. Only addresses change (free ports instead
of the well-known ones) and Prometheus scrapes and evaluates every second
instead of every 15 s; the rewrite checks it replaces exactly what it expects.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from _echo_provider import echo_provider, provider_env
from _sidecar import get, sample
from aivitals.codegen.promserver import free_port

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"

pytestmark = [
    pytest.mark.prometheus, pytest.mark.slow,
    pytest.mark.skipif(not (shutil.which("prometheus") and shutil.which("prometheus-alertmanager")),
                       reason="prometheus and prometheus-alertmanager are not installed"),
]


def _replace(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"{old!r} should appear once in the example"
    return text.replace(old, new)


@contextlib.contextmanager
def _process(args: list[str], ready: Callable[[], bool], what: str, env: dict[str, str] | None = None,
             cwd: Path | None = None) -> Iterator[subprocess.Popen[bytes]]:
    log = open(os.devnull, "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.PIPE, env=env, cwd=cwd)
    try:
        _wait(lambda: proc.poll() is None and ready(), what, fail=lambda: proc.poll() is not None)
        yield proc
    except BaseException:
        if proc.poll() is not None and proc.stderr:
            print(proc.stderr.read().decode(errors="replace")[-3000:], file=sys.stderr)
        raise
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(15)
        if proc.stderr:
            proc.stderr.close()
        log.close()


def _wait(check: Callable[[], bool], what: str, timeout: float = 90.0,
          fail: Callable[[], bool] = lambda: False) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, ValueError, KeyError):
            if check():
                return
        if fail():
            raise AssertionError(f"exited while waiting for {what}")
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def _ok(port: int, path: str) -> bool:
    return get(port, path, timeout=1.0)[0] == 200


def _api(port: int, path: str, **params: str) -> Any:
    url = f"http://127.0.0.1:{port}{path}?{urllib.parse.urlencode(params)}"
    with urllib.request.urlopen(url, timeout=10) as response:
        body = json.load(response)
    assert body["status"] == "success", body
    return body["data"]


def test_a_leaked_email_fires_the_first_alert_through_prometheus_and_alertmanager_into_the_sidecar(
        tmp_path: Path) -> None:
    app, sidecar, alertmanager, prometheus = (free_port() for _ in range(4))

    am_config = tmp_path / "alertmanager.yml"
    am_config.write_text(_replace((EXAMPLES / "alertmanager.yml").read_text(), "127.0.0.1:9477/",
                                  f"127.0.0.1:{sidecar}/"))
    prom_dir = tmp_path / "prometheus"
    prom_dir.mkdir()
    shutil.copytree(ROOT / "alerts", prom_dir / "alerts")
    text = (EXAMPLES / "prometheus.yml").read_text()
    for old, new in (("127.0.0.1:9464", f"127.0.0.1:{app}"), ("127.0.0.1:9477", f"127.0.0.1:{sidecar}"),
                     ("127.0.0.1:9093", f"127.0.0.1:{alertmanager}"), ("scrape_interval: 15s", "scrape_interval: 1s"),
                     ("evaluation_interval: 15s", "evaluation_interval: 1s")):
        text = _replace(text, old, new)
    (prom_dir / "prometheus.yml").write_text(text)

    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    with echo_provider() as provider, \
            _process([sys.executable, "-m", "aivitals.sidecar", "--config", str(EXAMPLES / "sidecar.yaml"),
                      "--store", str(tmp_path / "sidecar.db"), "--port", str(sidecar)],
                     lambda: _ok(sidecar, "/readyz"), "the sidecar", env), \
            _process([sys.executable, str(EXAMPLES / "openai_service.py"), "--port", str(app), "--every", "0.5",
                      "Reply with only this address: jane.doe@example.com"],
                     lambda: _ok(app, "/metrics"), "the service", {**env, **provider_env(provider)}), \
            _process(["prometheus-alertmanager", f"--config.file={am_config}", f"--storage.path={tmp_path / 'am'}",
                      f"--web.listen-address=127.0.0.1:{alertmanager}", "--cluster.listen-address="],
                     lambda: _ok(alertmanager, "/-/ready"), "Alertmanager"), \
            _process(["prometheus", "--config.file=prometheus.yml", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                      f"--web.listen-address=127.0.0.1:{prometheus}"],
                     lambda: _ok(prometheus, "/-/ready"), "Prometheus", cwd=prom_dir):

        # the rule groups of both generated files are loaded, and both scrape targets are up
        loaded = {g["name"] for g in _api(prometheus, "/api/v1/rules")["groups"]}
        generated = {g["name"] for p in (ROOT / "alerts").glob("*.yaml")
                     for g in yaml.safe_load(p.read_text())["groups"]}
        assert loaded == generated and len(generated) >= 8

        def targets_up() -> bool:
            active = _api(prometheus, "/api/v1/targets")["activeTargets"]
            return {(t["labels"]["job"], t["health"]) for t in active} == {("aivitals-app", "up"),
                                                                          ("aivitals-sidecar", "up")}

        _wait(targets_up, "both targets up")
        assert _api(prometheus, "/api/v1/alertmanagers")["activeAlertmanagers"][0]["url"].startswith(
            f"http://127.0.0.1:{alertmanager}/")

        def firing() -> bool:
            return any(a["labels"]["alertname"] == "AivitalsQualityPiiLeakageHigh" and a["state"] == "firing"
                       and a["labels"]["service"] == "assistant"
                       for a in _api(prometheus, "/api/v1/alerts")["alerts"])

        _wait(firing, "AivitalsQualityPiiLeakageHigh firing in Prometheus")

        def incident_open() -> bool:
            metrics = get(sidecar, "/metrics")[1].decode()
            return sample(metrics, "aivitals_incidents_open", {"severity": "critical"}) == 1

        _wait(incident_open, "the sidecar's incident from Alertmanager's webhook")
        metrics = get(sidecar, "/metrics")[1].decode()
        assert sample(metrics, "aivitals_incidents_total",
                      {"severity": "critical", "incident_source": "alertmanager"}) == 1
        assert sample(metrics, "aivitals_events_total", {"event_kind": "alert", "result": "accepted"}) == 1
