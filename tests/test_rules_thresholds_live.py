"""End to end: a thresholds file, exported by ThresholdCollector and scraped, changes which alerts fire."""

from __future__ import annotations

import json
import shutil
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from aivitals.codegen.build import render_all, write
from aivitals.codegen.promserver import start_prometheus
from aivitals.config import ThresholdCollector, parse
from exporter import Exporter

pytestmark = [pytest.mark.prometheus, pytest.mark.skipif(not shutil.which("prometheus"), reason="no prometheus")]

ALERT = "AivitalsEngineeringCostPerInferenceHigh"


def _alerts(url: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{url}/api/v1/alerts", timeout=10) as response:
        alerts: list[dict[str, Any]] = json.load(response)["data"]["alerts"]
    return alerts


def test_a_configured_threshold_silences_its_model_while_the_default_still_holds_for_others(tmp_path: Path) -> None:
    # the scenario spends $0.10 per call, above the catalogue's $0.05 warning: both models breach by default
    config = parse({"thresholds": {"cost_per_inference_usd": {"per": [
        {"service": "chat", "model": "m1", "warning": 1.0, "critical": 2.0}]}}})
    write(render_all(), tmp_path)
    exporter = Exporter(models=("m1", "m2"), extra=(ThresholdCollector(config),))
    try:
        with start_prometheus(tmp_path / "alerts", [exporter.target]) as prometheus:
            deadline = time.monotonic() + 60
            mine: list[dict[str, Any]] = []
            seen: set[tuple[str, str]] = set()
            polls_after_first = 0
            while time.monotonic() < deadline and polls_after_first < 6:  # a few evaluations, not one
                mine = [a for a in _alerts(prometheus.url) if a["labels"]["alertname"] == ALERT]
                seen |= {(a["labels"]["model"], a["labels"]["severity"]) for a in mine}
                polls_after_first += bool(seen)
                time.sleep(0.5)
    finally:
        exporter.stop()
    assert seen == {("m2", "warning")}
    assert mine[0]["state"] == "pending"  # for: 1h has not elapsed
    assert "$0.1 " in mine[0]["annotations"]["description"]
