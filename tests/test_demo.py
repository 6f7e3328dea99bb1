"""`aivitals demo` end to end: a real Prometheus scrapes it and agrees with the totals it reports."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import pytest

from aivitals.codegen.promserver import free_port, start_prometheus

pytestmark = [pytest.mark.prometheus, pytest.mark.slow]


def start_demo(port: int, *extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "aivitals", "demo", "--port", str(port), "--seed", "7",
                             "--speed", "300", "--plain", *extra], stdout=subprocess.PIPE, text=True, env=env)


def read_totals(demo: subprocess.Popen[str]) -> dict:
    assert demo.stdout is not None
    for line in demo.stdout:
        if line.startswith("{"):
            return dict(json.loads(line))
    raise AssertionError(f"the demo ended (rc={demo.wait()}) without printing its totals")


def stop(process: subprocess.Popen[str]) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait(5)


def test_prometheus_scrapes_the_demo_and_reports_the_same_request_and_token_totals():
    port, sidecar_port = free_port(), free_port()
    demo = start_demo(port, "--duration", "12", "--hold", "--sidecar-port", str(sidecar_port))
    prometheus = start_prometheus(None, [f"127.0.0.1:{port}", f"127.0.0.1:{sidecar_port}"])
    try:
        totals = read_totals(demo)
        assert totals["requests_total"] > 100
        assert prometheus.wait_for("sum(aivitals_requests_total)", totals["requests_total"]) == \
            totals["requests_total"]
        for token_type, count in totals["tokens_total"].items():
            expr = f'sum(aivitals_tokens_total{{token_type="{token_type}"}}) or vector(0)'
            assert prometheus.wait_for(expr, count) == count, token_type
        assert prometheus.wait_for("sum(aivitals_cost_usd_total)", totals["cost_usd_total"]) == pytest.approx(
            totals["cost_usd_total"], rel=1e-9)
        models = {r["metric"]["model"] for r in prometheus.query("sum by (model) (aivitals_requests_total)")}
        assert {"gpt-4o-mini", "gpt-4o", "claude-haiku-4-5", "text-embedding-3-small", "ticket-router-v3"} <= models
        assert prometheus.scalar('sum(aivitals_time_to_first_chunk_seconds_count{model="claude-haiku-4-5"})') > 0
        assert prometheus.scalar('sum(aivitals_requests_total{outcome="refused"})') > 0
        assert prometheus.scalar('sum(aivitals_requests_total{outcome=~"error|timeout"})') > 0
        assert totals["sidecar_events_failed"] == 0
        # the sidecar beside the demo feeds the tiles the SDK cannot see
        for series in ("aivitals_kpi_exposures_total", "aivitals_active_users", "aivitals_eligible_users",
                       "aivitals_incident_time_to_detect_seconds_count", "aivitals_confusion_total",
                       "aivitals_survey_responses_total", "aivitals_fixed_cost_usd_per_month"):
            assert prometheus.wait_for(f"count({series}) > bool 0", 1.0) == 1.0, series

        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            exposition = response.read()
        lint = subprocess.run(["promtool", "check", "metrics"], input=exposition, capture_output=True, timeout=30)
        assert lint.returncode == 0 and not lint.stdout.strip() and not lint.stderr.strip(), lint
    finally:
        prometheus.stop()
        assert stop(demo) == 0


def test_the_same_seed_gives_the_same_tickets():
    from prometheus_client import CollectorRegistry

    from aivitals.demo.service import DemoService, SimClock
    from aivitals.tracker import Tracker

    def run(seed: int) -> dict:
        registry = CollectorRegistry()
        clock = SimClock(speed=1e6)
        service = DemoService(Tracker(registry, clock=clock), clock, seed)
        for index in range(200):
            service.handle_ticket(index)
        return {(s.name, tuple(sorted(s.labels.items()))): s.value for f in registry.collect()
                for s in f.samples if "tokens" in s.name or "requests" in s.name}

    assert run(3) == run(3)
    assert run(3) != run(4)


def test_the_demo_exits_cleanly_on_ctrl_c():
    demo = start_demo(free_port(), "--sidecar-port", "0")
    assert demo.stdout is not None
    assert "serving" in demo.stdout.readline()
    while not demo.stdout.readline().startswith("sim day"):  # up to the first refresh of the tiles
        pass
    demo.send_signal(signal.SIGINT)
    out, _ = demo.communicate(timeout=30)
    assert demo.returncode == 0
    assert '"requests_total"' in out


def test_demo_prometheus_starts_prometheus_with_the_rules_and_stops_it_on_exit():
    demo = start_demo(free_port(), "--duration", "60", "--hold", "--sidecar-port", "0", "--prometheus")
    assert demo.stdout is not None
    url = None
    for line in demo.stdout:
        if "Prometheus at " in line:
            url = line.split("Prometheus at ")[1].split()[0]
            break
    assert url, "the demo printed no Prometheus URL"
    try:
        deadline = time.monotonic() + 60
        recorded = []
        while time.monotonic() < deadline and not recorded:
            query = urllib.parse.urlencode({"query": "service_model:aivitals_requests:rate5m"})
            with urllib.request.urlopen(f"{url}/api/v1/query?{query}", timeout=10) as response:
                recorded = json.load(response)["data"]["result"]
            time.sleep(0.5)
        assert recorded, "the generated recording rules produced nothing from the demo"
    finally:
        assert stop(demo) == 0
    with pytest.raises(OSError):
        urllib.request.urlopen(f"{url}/-/ready", timeout=2)
