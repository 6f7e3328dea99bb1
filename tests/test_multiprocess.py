"""Several worker processes, one scrape: prometheus_client's multiprocess mode."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector

WORKER = textwrap.dedent("""
    import aivitals
    tracker = aivitals.Tracker()  # PROMETHEUS_MULTIPROC_DIR is set: multiprocess mode
    ask = tracker.track(model="gpt-4o-mini")(lambda: {"usage": {"prompt_tokens": 10, "completion_tokens": 2}})
    for _ in range(250):
        ask()
    with tracker.track(model="gpt-4o-mini") as call:
        call.refused()
""")


def test_calls_in_several_worker_processes_add_up_in_one_scrape(tmp_path):
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    workers = [subprocess.Popen([sys.executable, "-c", WORKER], env=env) for _ in range(3)]
    assert [w.wait(60) for w in workers] == [0, 0, 0]

    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(tmp_path))
    value = registry.get_sample_value
    labels = {"service": "default", "model": "gpt-4o-mini", "operation": "chat", "provider": "openai"}
    assert value("aivitals_requests_total", {**labels, "outcome": "ok"}) == 750
    assert value("aivitals_requests_total", {**labels, "outcome": "refused"}) == 3
    assert value("aivitals_tokens_total", {**labels, "token_type": "input"}) == 7500
    assert value("aivitals_request_duration_seconds_count", labels) == 753
    assert value("aivitals_request_duration_seconds_bucket", {**labels, "le": "+Inf"}) == 753
    assert value("aivitals_cost_usd_total", {"service": "default", "model": "gpt-4o-mini", "provider": "openai",
                                             "cost_kind": "input"}) == pytest.approx(7500 * 0.15e-6)
