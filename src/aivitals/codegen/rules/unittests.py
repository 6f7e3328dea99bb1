"""``promtool test rules`` files, generated beside the rules they test.

Recording rules are checked against values worked out in Python from a fixed
scenario (``scenario.py``); every alert gets a case one minute before its
``for:`` elapses (silent) and one when it does (firing, with its labels and
annotations), plus a case proving config thresholds override the default.
"""

from __future__ import annotations

import re
from typing import Any

from ...catalogue import SLO_WINDOWS, Comparison, Severity, Threshold
from ...catalogue.promql import catalogue_recordings, longest_range, recorded_labels, render, seconds, series_labels
from . import human
from .alerts import THRESHOLD_METRIC, Alert, all_alerts
from .scenario import Series, expectation_for, series

#: Short windows need samples a minute apart; day-to-month windows hourly ones, or the test takes minutes.
SHORT: dict[str, Any] = {"interval": "1m", "eval": "6h10m", "eval_seconds": 6 * 3600 + 600}
LONG: dict[str, Any] = {"interval": "6h", "eval": "31d", "eval_seconds": 31 * 86400}

LABEL_VALUES = {
    "namespace": "prod", "service": "chat", "model": "m1", "cache": "prompt", "pii_kind": "email", "kpi": "signup",
    "cohort": "treatment", "severity": "high", "instance": "node1:9400", "gpu": "0", "stage": "cost",
    "attribute": "age", "feature": "f1", "bucket": "compute", "job": "app", "field": "gpu_power",
    "method": "lexical", "suite": "aivitals-jailbreak", "suite_version": "1",
}
#: Steps of healthy values before a test's series turns bad.
ONSET_STEPS = 10
#: Evaluation step (seconds) by the longest ``for:`` tested at it: a day of 1-minute steps is slow.
STEPS = ((900, 60), (7200, 300), (10**9, 3600))
STEP_FILES = {60: "alerts-1m.yaml", 300: "alerts-5m.yaml", 3600: "alerts-1h.yaml"}


def _step(for_: str) -> int:
    """Seconds between samples and evaluations for an alert's tests."""
    return next(step for limit, step in STEPS if seconds(for_) <= limit)


def _at(step: int, steps: int) -> str:
    return f"{step * steps // 60}m"


def _num(value: float) -> str:
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def _labels_text(name: str, labels: dict[str, str]) -> str:
    inner = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return f"{name}{{{inner}}}"


# --- recording rules ------------------------------------------------------------------------------


def _input(s: Series, interval: int, steps: int) -> dict[str, str]:
    values = f"0+{_num(s.value * interval)}x{steps}" if s.counter else f"{_num(s.value)}+0x{steps}"
    return {"series": _labels_text(s.name, s.labels), "values": values}


def recording_test(long: bool) -> dict[str, Any]:
    plan = LONG if long else SHORT
    interval = seconds(str(plan["interval"]))
    eval_seconds = int(plan["eval_seconds"])
    recordings = catalogue_recordings()
    by_name = {r.record: r for r in recordings}
    cases = []
    for rec in recordings:
        # a subquery reads recorded points, which minute-apart samples give at any range
        if (longest_range(rec, by_name, subqueries=False) > 6 * 3600) != long:
            continue
        pattern = rec.source.record
        values = expectation_for(pattern)(float(seconds(rec.window)) if rec.window else 0.0, float(eval_seconds),
                                          {"service": "chat", "model": "m1"})
        samples = [{"labels": _labels_text(rec.record, dict(labels)), "value": value}
                   for labels, value in sorted(values.items())]
        cases.append({"expr": rec.record, "eval_time": plan["eval"], "exp_samples": samples})
    steps = eval_seconds // interval + 1
    return {
        "rule_files": ["../aivitals-recording.yaml"],
        "evaluation_interval": plan["interval"],
        "tests": [{"name": f"recording rules over {'day-to-month' if long else 'minute-to-hour'} windows",
                   "interval": plan["interval"],
                   "input_series": [_input(s, interval, steps) for s in series()],
                   "promql_expr_test": cases},
                  *([] if long else [_missing_numerators()])],
    }


def _missing_numerators() -> dict[str, Any]:
    """Shares whose numerator series was never created read 0 (or 1), not "no data".

    A model that never refused has no outcome="refused" series at all; the
    refusal-rate-zero alert needs a 0 to compare, and a perfect model's F1 is 1.
    """
    call = {"service": "chat", "model": "m1", "operation": "chat", "provider": "openai"}
    inputs = [
        Series("aivitals_requests_total", {**call, "outcome": "ok"}, 10),
        Series("aivitals_evaluations_total", {"service": "chat", "model": "m1", "evaluator": "hallucination",
                                              "verdict": "pass"}, 5),
        *(Series("aivitals_confusion_total", {"model": "m1", "class_outcome": c}, 5) for c in ("tp", "tn")),
    ]
    sm = 'service="chat", model="m1"'
    expect = {
        "service_model:aivitals_refusal:ratio_rate5m": (sm, 0.0),
        "service_model:aivitals_request_errors:ratio_rate5m": (sm, 0.0),
        "service_model:aivitals_hallucination:ratio_rate1h": (sm, 0.0),
        "model:aivitals_precision:ratio_rate1h": ('model="m1"', 1.0),
        "model:aivitals_f1:ratio_rate1h": ('model="m1"', 1.0),
    }
    return {
        "name": "a share whose numerator was never recorded reads 0, not no data",
        "interval": "1m",
        "input_series": [_input(s, 60, 70) for s in inputs],
        "promql_expr_test": [{"expr": record, "eval_time": "65m",
                              "exp_samples": [{"labels": f"{record}{{{labels}}}", "value": value}]}
                             for record, (labels, value) in expect.items()],
    }


# --- alerts ---------------------------------------------------------------------------------------


def go_value(value: float) -> str:
    """Go's default rendering of a float64 in a template (shortest form)."""
    return str(int(value)) if value == int(value) and abs(value) < 1e21 else repr(value)


def expand(template: str, labels: dict[str, str], value: float) -> str:
    """The alert templates aivitals writes, rendered as Prometheus renders them."""
    out = re.sub(r"\{\{ \$labels\.(\w+) \}\}", lambda m: labels.get(m.group(1), "<no value>"), template)
    out = out.replace("{{ $value | humanizePercentage }}", human.humanize_percentage(value))
    out = out.replace("{{ $value | humanizeDuration }}", human.humanize_duration(value))
    out = re.sub(r'\{\{ \$value \| printf "(%[^"]+)" \}\}', lambda m: m.group(1) % value, out)
    return out.replace("{{ $value }}", go_value(value))


def _subject(alert: Alert) -> tuple[str, dict[str, str]]:
    """The series name an alert reads and labels for one such series."""
    assert alert.vital is not None and alert.threshold is not None
    value = alert.threshold.subject or (alert.confirm[0])
    name = value.split("{")[0]
    labels = {k: LABEL_VALUES[k] for k in (recorded_labels().get(value) or series_labels(value))}
    for key, val in re.findall(r'(\w+)="([^"]*)"', value[len(name):]):
        labels[key] = val
    return name, labels


def bad_value(t: Threshold, level: Severity) -> float:
    """A value past ``level`` (and, for warning, short of critical)."""
    w, c = t.warning, t.critical
    if t.comparison is Comparison.EQUAL:
        return w if w is not None else 0.0
    if t.comparison is Comparison.ABOVE:
        if level is Severity.WARNING:
            assert w is not None
            return (w + c) / 2 if c is not None else (w * 2 if w > 0 else 1.0)
        assert c is not None
        if c == 0:
            return 1.0
        return (c + t.maximum) / 2 if t.maximum is not None and c * 1.5 > t.maximum else c * 1.5
    if level is Severity.WARNING:
        assert w is not None
        return (w + c) / 2 if c is not None else (w / 2 if w > 0 else w - 0.1)
    assert c is not None
    return c / 2 if c > 0 else c - 0.2


def healthy_value(t: Threshold) -> float:
    w = t.warning if t.warning is not None else t.critical
    assert w is not None
    if t.comparison is Comparison.EQUAL:
        return w + 0.1
    if t.comparison is Comparison.ABOVE:
        return w / 2
    if t.maximum is not None:
        return (w + t.maximum) / 2
    return w * 2 if w > 0 else w + 0.1


def _firing(alerts: list[Alert], labels: dict[str, str], value: float) -> list[dict[str, Any]]:
    return [{"exp_labels": {**labels, **a.labels},
             "exp_annotations": {k: expand(v, labels, value) for k, v in a.annotations.items()}} for a in alerts]


def _condition_inputs(t: Threshold, labels: dict[str, str], steps: int) -> list[dict[str, str]]:
    """The condition's series at a value that meets it (the condition is ``record OP number``)."""
    if not t.condition:
        return []
    name, op, number = t.condition.split()
    limit = float(number)
    value = (-3.0 if limit > -3.0 else limit - 1) if op.startswith("<") else (limit + 1 if limit >= 0 else 3.0)
    return [{"series": _labels_text(name, labels), "values": f"{_num(value)}+0x{steps}"}]


def _threshold_tests(alerts: list[Alert]) -> list[dict[str, Any]]:
    tests = []
    first = alerts[0]
    t, vital = first.threshold, first.vital
    assert t is not None and vital is not None
    name, labels = _subject(first)
    step = _step(t.for_)
    for_steps = seconds(t.for_) // step
    steps = ONSET_STEPS + for_steps + 5
    for alert in alerts:
        level = Severity(alert.severity)
        bad = bad_value(t, level)
        firing = [a for a in alerts if level is Severity.CRITICAL or a.severity == Severity.WARNING.value]
        tests.append({
            "name": f"{alert.name} ({alert.severity}) fires after for: {t.for_}, not before",
            "interval": f"{step // 60}m",
            "input_series": [{"series": _labels_text(name, labels),
                              "values": f"{_num(healthy_value(t))}+0x{ONSET_STEPS - 1} {_num(bad)}+0x{steps}"},
                             *_condition_inputs(t, labels, steps + ONSET_STEPS)],
            "alert_rule_test": [
                {"alertname": alert.name, "eval_time": _at(step, ONSET_STEPS + for_steps - 1), "exp_alerts": []},
                {"alertname": alert.name, "eval_time": _at(step, ONSET_STEPS + for_steps),
                 "exp_alerts": _firing(firing, labels, bad)},
            ],
        })
    tests.append(_override_test(alerts[0], name, labels))
    return tests


def _override_test(alert: Alert, name: str, labels: dict[str, str]) -> dict[str, Any]:
    """A config threshold for one series silences it; a series without one keeps the default."""
    t = alert.threshold
    assert t is not None
    level = Severity(alert.severity)
    bad = bad_value(t, level)
    loosened = bad + 0.5 if t.comparison is Comparison.EQUAL else bad
    override = {"threshold": t.config_key, "level": alert.severity}
    other: dict[str, str] | None = None
    if "model" in labels:
        override["model"] = labels["model"]
        if "service" in labels:
            override["service"] = labels["service"]
        other = {**labels, "model": "m2"}
    step = _step(t.for_)
    steps = seconds(t.for_) // step + 10
    inputs = [{"series": _labels_text(name, labels), "values": f"{_num(bad)}+0x{steps}"},
              {"series": _labels_text(THRESHOLD_METRIC, override), "values": f"{_num(loosened)}+0x{steps}"},
              *_condition_inputs(t, labels, steps)]
    expected: list[dict[str, Any]] = []
    if other is not None:
        inputs.append({"series": _labels_text(name, other), "values": f"{_num(bad)}+0x{steps}"})
        inputs += _condition_inputs(t, other, steps)
        expected = _firing([alert], other, bad)
    return {
        "name": f"{alert.name} ({alert.severity}) reads {THRESHOLD_METRIC} where set, the default elsewhere",
        "interval": f"{step // 60}m",
        "input_series": inputs,
        "alert_rule_test": [{"alertname": alert.name, "eval_time": _at(step, steps - 5), "exp_alerts": expected}],
    }


def _precedence_test(alert: Alert) -> dict[str, Any]:
    """Service and model beat service, which beats global, which beats the default."""
    t = alert.threshold
    assert t is not None and t.comparison is Comparison.ABOVE and t.warning is not None
    name, base = _subject(alert)
    value = t.warning * 0.8  # healthy by default
    step = _step(t.for_)
    steps = seconds(t.for_) // step + 10
    key = {"threshold": t.config_key, "level": "warning"}
    series_ = {
        "chat/m1": {**base, "service": "chat", "model": "m1"},  # service tier: tightened, fires
        "chat/m2": {**base, "service": "chat", "model": "m2"},  # exact tier: loosened, silent
        "search/m1": {**base, "service": "search", "model": "m1"},  # model tier: loosened, silent
        "batch/m3": {**base, "service": "batch", "model": "m3"},  # global tier: tightened, fires
    }
    thresholds = [
        ({**key}, value * 0.5),
        ({**key, "service": "chat"}, value * 0.5),
        ({**key, "service": "chat", "model": "m2"}, value * 2),
        ({**key, "model": "m1"}, value * 2),
    ]
    inputs = [{"series": _labels_text(name, labels), "values": f"{_num(value)}+0x{steps}"}
              for labels in series_.values()]
    inputs += [{"series": _labels_text(THRESHOLD_METRIC, labels), "values": f"{_num(v)}+0x{steps}"}
               for labels, v in thresholds]
    fires = [series_["chat/m1"], series_["batch/m3"]]
    return {
        "name": f"{alert.name}: service+model beats service beats model beats global beats the default",
        "interval": f"{step // 60}m",
        "input_series": inputs,
        "alert_rule_test": [{"alertname": alert.name, "eval_time": _at(step, steps - 5),
                             "exp_alerts": [x for labels in fires for x in _firing([alert], labels, value)]}],
    }


def _slo_tests(alert: Alert) -> dict[str, Any]:
    slo = alert.slo
    assert slo is not None
    budget = float(f"{1 - slo.objective:.10g}")
    critical = alert.severity == Severity.CRITICAL.value
    burning, burn = (("1h", "5m"), 20.0) if critical else (("1d", "2h"), 4.0)
    for_min = seconds(alert.for_) // 60
    steps = ONSET_STEPS + for_min + 5
    labels = {k: LABEL_VALUES[k] for k in ("namespace", "service", "model")}
    errors = burn * budget
    inputs = []
    for window in SLO_WINDOWS:
        bad = errors if window in burning else 0.0
        inputs.append({"series": _labels_text(render(slo.errors, window), labels),
                       "values": f"0+0x{ONSET_STEPS - 1} {_num(bad)}+0x{steps}"})
    return {
        "name": f"{alert.name} ({alert.severity}) fires when {burning[0]} and {burning[1]} burn {burn:g}x",
        "interval": "1m",
        "input_series": inputs,
        "alert_rule_test": [
            {"alertname": alert.name, "eval_time": f"{ONSET_STEPS + for_min - 1}m", "exp_alerts": []},
            {"alertname": alert.name, "eval_time": f"{ONSET_STEPS + for_min}m",
             "exp_alerts": _firing([alert], labels, errors / budget)},
        ],
    }


def _target_tests(alerts: list[Alert]) -> list[dict[str, Any]]:
    tests = []
    target = {"job": "app", "instance": "app:8000"}
    for alert in alerts:
        for_min = seconds(alert.for_) // 60
        steps = ONSET_STEPS + for_min + 5
        inputs = [
            {"series": _labels_text("up", target), "values": f"1+0x{ONSET_STEPS - 1} 0+0x{steps}"},
            {"series": _labels_text("job:aivitals_series:count", {"job": "app"}),
             "values": f"5+0x{ONSET_STEPS - 1} stale"},
        ]
        labels = target if alert.name.endswith("TargetDown") else {"job": "app"}
        value = 0.0 if alert.name.endswith("TargetDown") else 5.0
        tests.append({
            "name": f"{alert.name} fires after for: {alert.for_} of silence, not before",
            "interval": "1m",
            "input_series": inputs,
            "alert_rule_test": [
                {"alertname": alert.name, "eval_time": f"{ONSET_STEPS + for_min - 1}m", "exp_alerts": []},
                {"alertname": alert.name, "eval_time": f"{ONSET_STEPS + for_min}m",
                 "exp_alerts": _firing([alert], labels, value)},
            ],
        })
    return tests


def alert_tests(runbook_url: str) -> dict[int, list[dict[str, Any]]]:
    """Test groups by evaluation step (seconds)."""
    by_name: dict[str, list[Alert]] = {}
    for alert in all_alerts(runbook_url):
        by_name.setdefault(alert.name, []).append(alert)
    tests: dict[int, list[dict[str, Any]]] = {step: [] for step in STEP_FILES}
    for group in by_name.values():
        first = group[0]
        step = _step(first.for_)
        if first.threshold is not None:
            tests[step] += _threshold_tests(group)
            if first.vital is not None and first.vital.id == "latency_p95":
                tests[step].append(_precedence_test(first))
        elif first.slo is not None:
            tests[60] += [_slo_tests(a) for a in group]
        else:
            tests[60] += _target_tests(group)
    return tests


def render_tests(runbook_url: str) -> dict[str, dict[str, Any]]:
    """File name under alerts/tests/ -> promtool test document."""
    alerts = alert_tests(runbook_url)
    return {
        **{STEP_FILES[step]: {
            "rule_files": ["../aivitals-alerts.yaml"], "evaluation_interval": f"{step // 60}m", "tests": tests}
            for step, tests in alerts.items()},
        "recording-minutes.yaml": recording_test(long=False),
        "recording-days.yaml": recording_test(long=True),
    }


__all__ = ["render_tests"]
