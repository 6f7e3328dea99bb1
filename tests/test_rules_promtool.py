"""`promtool test rules` over the generated tests: every alert before and after `for:`, every record by value."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from aivitals.catalogue import SERIES_COUNT
from aivitals.catalogue.promql import catalogue_recordings
from aivitals.codegen.build import render_all, write
from aivitals.codegen.rules import all_alerts
from aivitals.codegen.rules.unittests import render_tests

pytestmark = [pytest.mark.prometheus, pytest.mark.skipif(not shutil.which("promtool"), reason="no promtool")]

TESTS = sorted(render_tests("docs/runbooks.md"))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("build")
    write(render_all(), out)
    return out


@pytest.mark.parametrize("name", TESTS)
def test_promtool_passes_the_generated_rule_tests(built: Path, name: str) -> None:
    result = subprocess.run(["promtool", "test", "rules", f"tests/{name}"], cwd=built / "alerts",
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]


def test_every_alert_is_tested_just_before_and_after_for() -> None:
    docs = render_tests("docs/runbooks.md")
    cases: dict[str, list[dict[str, object]]] = {}
    for _name, doc in docs.items():
        for group in doc["tests"]:
            for case in group.get("alert_rule_test", []):
                cases.setdefault(case["alertname"], []).append(case)
    for alert in all_alerts():
        mine = cases.get(alert.name, [])
        assert any(not c["exp_alerts"] for c in mine), f"{alert.name}: no case before it fires"
        firing = [a for c in mine for a in c["exp_alerts"]]  # type: ignore[attr-defined]
        assert any(a["exp_labels"]["severity"] == alert.severity for a in firing), (
            f"{alert.name} ({alert.severity}): no case where it fires")


def test_every_recording_rule_has_a_value_test() -> None:
    docs = render_tests("docs/runbooks.md")
    tested = {case["expr"] for doc in docs.values() for group in doc["tests"]
              for case in group.get("promql_expr_test", [])}
    assert {r.record for r in catalogue_recordings()} <= tested
    for doc in docs.values():
        for group in doc["tests"]:
            for case in group.get("promql_expr_test", []):
                assert case["exp_samples"], f"{case['expr']}: an empty expectation proves nothing"


def test_refusal_zero_alerts_a_chat_model_and_never_an_embedding_model_or_a_classifier(built: Path) -> None:
    """A model that cannot refuse (embeddings, classify) has a refusal rate of exactly 0 by nature."""
    import yaml

    from aivitals.codegen.rules.unittests import _firing

    [warning] = [a for a in all_alerts() if a.name == "AivitalsQualityRefusalRateZero"]
    annotations = _firing([warning], {"service": "s", "model": "chatty", "method": ""}, 0.0)[0]["exp_annotations"]
    series = []
    for model, operation in (("chatty", "chat"), ("embedder", "embeddings"), ("router", "classify")):
        labels = f'service="s", model="{model}", operation="{operation}", provider="openai"'
        series.append({"series": f'aivitals_requests_total{{{labels}, outcome="ok"}}', "values": "0+60x500"})
    test = {"rule_files": ["../aivitals-recording.yaml", "../aivitals-alerts.yaml"], "evaluation_interval": "1m",
            "tests": [{"interval": "1m", "input_series": series, "alert_rule_test": [{
                "alertname": "AivitalsQualityRefusalRateZero", "eval_time": "7h10m",
                "exp_alerts": [{"exp_labels": {"alertname": "AivitalsQualityRefusalRateZero", "area": "quality",
                                               "severity": "warning", "vital": "refusal_rate", "service": "s",
                                               "model": "chatty"},
                                "exp_annotations": annotations}]}]}]}
    path = built / "alerts" / "tests" / "refusal-zero-operations.yaml"
    path.write_text(yaml.safe_dump(test))
    result = subprocess.run(["promtool", "test", "rules", "tests/refusal-zero-operations.yaml"],
                            cwd=built / "alerts", capture_output=True, text=True, check=False)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]


@pytest.mark.parametrize("long", [False, True])
def test_the_recording_rules_give_the_same_answer_from_one_sidecar_replica_or_two(built: Path, long: bool) -> None:
    """Sidecar series every replica exports (labelled replica) are split across two replicas: same records."""
    import math

    import yaml

    from aivitals.catalogue import METRICS_BY_NAME, Replicas
    from aivitals.catalogue.promql import seconds
    from aivitals.codegen.rules.scenario import Series, series
    from aivitals.codegen.rules.unittests import _input, recording_test

    def each_replica(name: str) -> bool:
        for suffix in ("_bucket", "_sum", "_count", ""):
            metric = METRICS_BY_NAME.get(name.removesuffix(suffix)) if name.endswith(suffix) else None
            if metric is not None:
                return metric.replicas is Replicas.EACH
        return False

    doc = recording_test(long)
    test = doc["tests"][0]
    interval = seconds(test["interval"])
    steps = int(test["input_series"][0]["values"].rsplit("x", 1)[1])

    split = 0
    inputs = []
    for s in series():
        if s.counter and each_replica(s.name):
            half = float(math.floor(s.value / 2))
            for replica, value in (("r1", half), ("r2", s.value - half)):
                inputs.append(_input(Series(s.name, {**s.labels, "replica": replica}, value), interval, steps))
            split += 1
        else:
            inputs.append(_input(s, interval, steps))
    assert split > 10, "the scenario has sidecar counters to split"
    # job:aivitals_series:count counts stored series, which two replicas rightly have more of
    cases = [case for case in test["promql_expr_test"] if case["expr"] != SERIES_COUNT]
    assert len(cases) > 20
    doc["tests"] = [{**test, "input_series": inputs, "promql_expr_test": cases}]
    path = built / "alerts" / "tests" / f"replicas-{'long' if long else 'short'}.yaml"
    path.write_text(yaml.safe_dump(doc))
    result = subprocess.run(["promtool", "test", "rules", f"tests/{path.name}"], cwd=built / "alerts",
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
