"""End to end: @track with evaluation on -> /metrics -> a real Prometheus evaluating the generated rules.

The app answers from its retrieved passage, every other answer with a changed number and some with a
leaked e-mail; Prometheus (started on 127.0.0.1, stopped by pid) must derive the hallucination rate
from aivitals' own evaluator and fire the PII alert.
"""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from aivitals import Tracker
from aivitals.codegen.promserver import free_port, start_prometheus
from aivitals.evaluators.worker import EvaluateConfig
from aivitals.exposition import start_http_server

pytestmark = [pytest.mark.prometheus, pytest.mark.slow,
              pytest.mark.skipif(not shutil.which("prometheus"), reason="no prometheus binary")]

ROOT = Path(__file__).resolve().parents[1]
PASSAGE = [{"id": "doc-1", "text": "Express shipping takes 2 days and costs $9."}]


def test_evaluator_verdicts_reach_prometheus_rules_and_alerts() -> None:
    registry = CollectorRegistry()
    config = EvaluateConfig(sample_rate=1.0, extract=lambda args, kwargs: {"question": args[0], "contexts": PASSAGE})
    tracker = Tracker(registry, service="shop", evaluate=config)
    count = [0]

    @tracker.track(model="m1", provider="openai")
    def answer(question: str) -> str:
        count[0] += 1
        days = 2 if count[0] % 2 else 5  # every other answer changes the number
        mail = " Write to ann@acme.io." if count[0] % 5 == 0 else ""
        return f"Express shipping takes {days} days [doc-1].{mail}"

    stop = threading.Event()

    def traffic() -> None:
        while not stop.wait(0.05):
            answer("How fast is express shipping?")

    port = free_port()
    server, _thread = start_http_server(port, registry=registry)
    load = threading.Thread(target=traffic, daemon=True)
    load.start()
    try:
        with start_prometheus(ROOT / "alerts", [f"127.0.0.1:{port}"]) as prometheus:
            rate = prometheus.wait_for(
                'count(service_model:aivitals_citation:ratio_rate1h{service="shop", model="m1", '
                'method="lexical"} == 1)', 1.0, timeout=90)
            assert rate == 1.0, "the citation verdicts never reached the recording rule"
            halves = prometheus.wait_for(  # every other answer changes the number
                'count(service_model:aivitals_hallucination:ratio_rate1h{service="shop", model="m1", '
                'method="lexical"} >= 0.3 <= 0.7)', 1.0, timeout=90)
            assert halves == 1.0, "the hallucination rate is not the evaluator's share of changed numbers"
            leaks = prometheus.wait_for(
                'count(ALERTS{alertname="AivitalsQualityPiiLeakageHigh", alertstate="firing", '
                'pii_kind="email", model="m1"})', 1.0, timeout=90)
            assert leaks == 1.0
            evaluated = prometheus.scalar(
                'sum(aivitals_evaluator_responses_total{evaluation_status="evaluated", model="m1"})')
            assert evaluated is not None and evaluated > 0
    finally:
        stop.set()
        load.join(5)
        server.shutdown()


def test_groundedness_fails_where_numbers_change() -> None:
    """Without Prometheus: the same app's verdicts, counted in process (the rule inputs of the test above)."""
    registry = CollectorRegistry()
    config = EvaluateConfig(sample_rate=1.0, extract=lambda args, kwargs: {"question": args[0], "contexts": PASSAGE})
    tracker = Tracker(registry, service="shop", evaluate=config)
    assert tracker.evaluator is not None

    @tracker.track(model="m1")
    def answer(question: str, days: int) -> str:
        return f"Express shipping takes {days} days [doc-1]."

    for days in (2, 5, 2, 7):
        answer("How fast?", days)
    assert tracker.evaluator.drain()
    tracker.flush()
    labels = {"service": "shop", "model": "m1", "evaluator": "hallucination", "method": "lexical"}
    assert registry.get_sample_value("aivitals_evaluations_total", {**labels, "verdict": "fail"}) == 2
    assert registry.get_sample_value("aivitals_evaluations_total", {**labels, "verdict": "pass"}) == 2
