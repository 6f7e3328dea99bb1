"""A real Prometheus loaded with the generated rules scrapes a target; every rule, panel and variable query runs.

The target is the lead's demo when ``aivitals.demo`` exists, else a local
exporter serving the rule scenario's catalogue series (``exporter.py``).
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from aivitals.catalogue.promql import catalogue_recordings
from aivitals.codegen.build import render_all, write
from aivitals.codegen.promserver import PrometheusHandle, free_port, start_prometheus
from aivitals.codegen.rules import all_alerts
from exporter import Exporter

pytestmark = [pytest.mark.prometheus, pytest.mark.slow,
              pytest.mark.skipif(not shutil.which("prometheus"), reason="no prometheus binary")]

_DRIFT = "the fixture exporter serves no reference profile; the demo's classifier does"
#: Panels the fixture cannot feed, and why.
NOT_FED_BY_FIXTURE = {
    "#3 Distribution shift score": _DRIFT,
    "#4 Feature drift, per feature": _DRIFT,
    "#5 Prediction drift": _DRIFT,
}
#: Panels the demo cannot feed, and why.
NOT_FED_BY_DEMO = {
    "#17 PII and secrets leakage": "the demo leaks an e-mail in 0.4% of answers: a short run may see none",
    "LLM judge calls": "the demo runs no LLM judge (opt-in)",
}
VARIABLES = {"$namespace": ".*", "$service": ".*", "$model": ".*", "$__range_s": "3600", "$__range": "1h"}
WAIT_S = 150.0


@dataclass
class Live:
    prometheus: PrometheusHandle
    out: Path
    source: str
    #: (board, panel title) of every panel that has answered with data at least once.
    fed: set[tuple[str, str]] = field(default_factory=set)

    def get(self, path: str, **params: str) -> dict[str, Any]:
        url = f"{self.prometheus.url}{path}?{urllib.parse.urlencode(params)}"
        with urllib.request.urlopen(url, timeout=30) as response:
            data: dict[str, Any] = json.load(response)
        return data

    def query(self, expr: str) -> list[Any]:
        answer = self.get("/api/v1/query", query=expr)
        assert answer["status"] == "success", (expr, answer)
        result: list[Any] = answer["data"]["result"]
        return result


def _substitute(expr: str) -> str:
    for name, value in VARIABLES.items():
        expr = expr.replace(name, value)
    return expr


def _boards(out: Path) -> dict[str, dict[str, Any]]:
    return {p.name: json.loads(p.read_text()) for p in sorted((out / "dashboards").glob("*.json"))}


def _panels(out: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, board in _boards(out).items():
        for panel in board["panels"]:
            if panel["type"] != "row":
                yield name, panel


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    out = tmp_path_factory.mktemp("build")
    write(render_all(), out)
    demo = None
    exporter = None
    if importlib.util.find_spec("aivitals.demo") is not None:
        port, sidecar_port = free_port(), free_port()
        log = (out / "demo.log").open("wb")
        demo = subprocess.Popen([sys.executable, "-m", "aivitals", "demo", "--port", str(port), "--seed", "1",
                                 "--speed", "600", "--plain", "--duration", str(WAIT_S), "--hold",
                                 "--sidecar-port", str(sidecar_port)],
                                stdout=log, stderr=subprocess.STDOUT)
        log.close()
        targets, source = [f"127.0.0.1:{port}", f"127.0.0.1:{sidecar_port}"], "demo"
    else:
        exporter = Exporter()
        targets, source = [exporter.target], "fixture"
    try:
        with start_prometheus(out / "alerts", targets) as prometheus:
            state = Live(prometheus, out, source)
            _wait_until_fed(state)
            yield state
    finally:
        if exporter is not None:
            exporter.stop()
        if demo is not None:
            demo.terminate()  # it sends the sidecar what is still queued first: seconds at --speed 600 under load
            try:
                demo.wait(timeout=60)
            except subprocess.TimeoutExpired:
                demo.kill()
                demo.wait(timeout=10)
                raise


def _not_fed(source: str) -> dict[str, str]:
    return NOT_FED_BY_DEMO if source == "demo" else NOT_FED_BY_FIXTURE


def _fed(state: Live, panel: dict[str, Any]) -> bool:
    return any(state.query(_substitute(t["expr"])) for t in panel["targets"])


def _wait_until_fed(state: Live) -> None:
    """Poll (never sleep a fixed time) until every rule has run and every feedable panel has had data.

    A panel counts as fed once any of its queries answered with data: under load a 1s scrape of the
    target can time out, and Prometheus then marks the target's series stale at once, so an instant
    query on a gauge is empty until the next scrape succeeds. Asking "has it had data" keeps that
    flicker out of the verdict without waiting a fixed time.
    """
    deadline = time.monotonic() + WAIT_S
    skip = _not_fed(state.source)
    while time.monotonic() < deadline:
        groups = state.get("/api/v1/rules")["data"]["groups"]
        evaluated = all(rule["health"] != "unknown" for g in groups for rule in g["rules"])
        for name, panel in _panels(state.out):
            if panel["title"] not in skip and (name, panel["title"]) not in state.fed and _fed(state, panel):
                state.fed.add((name, panel["title"]))
        if evaluated and all((n, p["title"]) in state.fed for n, p in _panels(state.out) if p["title"] not in skip):
            return
        time.sleep(1)


def _diagnosis(state: Live) -> str:
    """What a failed wait leaves to read: each target's health and the demo's own output."""
    targets = state.get("/api/v1/targets")["data"]["activeTargets"]
    health = [f"{t['scrapeUrl']}: {t['health']} {t.get('lastError', '')}" for t in targets]
    log = state.out / "demo.log"
    tail = log.read_text(errors="replace")[-3000:] if log.exists() else "(no demo log)"
    return "targets:\n  " + "\n  ".join(health) + "\ndemo output (tail):\n" + tail


def test_every_rule_evaluates_without_error(live: Live) -> None:
    groups = live.get("/api/v1/rules")["data"]["groups"]
    rules = [rule for g in groups for rule in g["rules"]]
    assert {r.record for r in catalogue_recordings()} <= {r["name"] for r in rules if r["type"] == "recording"}
    assert sum(1 for r in rules if r["type"] == "alerting") == len(all_alerts())
    broken = [(r["name"], r.get("lastError")) for r in rules if r["health"] != "ok"]
    assert not broken


def test_every_recording_rule_answers_the_query_api(live: Live) -> None:
    for recording in catalogue_recordings():
        live.query(recording.record)


def test_every_panel_and_variable_query_runs_without_error(live: Live) -> None:
    count = 0
    for _, panel in _panels(live.out):
        for target in panel["targets"]:
            live.query(_substitute(target["expr"]))
            count += 1
    assert count > 60
    for board in _boards(live.out).values():
        for variable in board["templating"]["list"]:
            if variable["type"] != "query":
                continue
            source, label = variable["query"].removeprefix("label_values(").removesuffix(")").rsplit(", ", 1)
            answer = live.get(f"/api/v1/label/{label}/values", **{"match[]": _substitute(source)})
            assert answer["status"] == "success", variable["query"]


def test_the_service_and_model_variables_list_what_the_target_reports(live: Live) -> None:
    board = _boards(live.out)["aivitals-engineering.json"]
    service = next(v for v in board["templating"]["list"] if v["name"] == "service")
    source = service["query"].removeprefix("label_values(").rsplit(", ", 1)[0]
    values = live.get("/api/v1/label/service/values", **{"match[]": _substitute(source)})["data"]
    assert values


def test_every_panel_fed_by_the_target_returns_data(live: Live) -> None:
    skip = _not_fed(live.source)
    empty = [(name, panel["title"]) for name, panel in _panels(live.out)
             if panel["title"] not in skip and (name, panel["title"]) not in live.fed]
    assert not empty, _diagnosis(live)
    titles = {panel["title"] for _, panel in _panels(live.out)}
    assert set(skip) <= titles, "the not-fed list names panels that do not exist"
    if live.source == "fixture":
        assert not [t for _, p in _panels(live.out) if (t := p["title"]) in skip and _fed(live, p)], (
            "a panel listed as not fed has data now: take it off the list")
