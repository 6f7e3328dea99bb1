"""Alerts follow the catalogue: one per threshold and level, computed burn rates, runbooks for each."""

from __future__ import annotations

import re

import pytest

from aivitals.catalogue import BURN_WINDOWS, METRICS_BY_NAME, SLOS, VITALS, Severity
from aivitals.catalogue.slos import LATENCY_SLO_SECONDS
from aivitals.codegen.rules import all_alerts
from aivitals.codegen.rules.human import humanize_duration, humanize_percentage
from aivitals.codegen.rules.runbooks import render as runbooks
from aivitals.codegen.rules.slo import burn_factor


def test_burn_rate_factors_come_from_the_budget_table() -> None:
    assert [burn_factor(w, "30d") for w in BURN_WINDOWS] == [14.4, 6.0, 3.0, 1.0]
    assert burn_factor(BURN_WINDOWS[0], "28d") == pytest.approx(0.02 * 28 * 24)


def test_page_windows_are_critical_and_ticket_windows_warning() -> None:
    assert [(w.long, w.short, w.severity) for w in BURN_WINDOWS] == [
        ("1h", "5m", Severity.CRITICAL), ("6h", "30m", Severity.CRITICAL),
        ("1d", "2h", Severity.WARNING), ("3d", "6h", Severity.WARNING)]


def test_the_latency_slo_threshold_is_a_bucket_edge() -> None:
    buckets = METRICS_BY_NAME["aivitals_request_duration_seconds"].buckets
    latency = next(v for v in VITALS if v.id == "latency_p95").thresholds[0]
    assert LATENCY_SLO_SECONDS in buckets and latency.warning in buckets and latency.critical in buckets


def test_the_latency_sli_counts_calls_under_that_edge() -> None:
    expr = next(a for a in all_alerts() if a.slo and a.slo.id == "latency").expr
    assert "slo_latency_errors" in expr
    from aivitals.catalogue import DERIVED

    sli = next(d for d in DERIVED if "slo_latency_errors" in d.record)
    assert f'le="{LATENCY_SLO_SECONDS:g}"' in sli.query


def test_burn_rate_alerts_use_both_windows_of_each_pair() -> None:
    for alert in (a for a in all_alerts() if a.slo):
        pairs = [w for w in BURN_WINDOWS if w.severity.value == alert.severity]
        for w in pairs:
            factor = f"{burn_factor(w, alert.slo.period):.10g}"  # type: ignore[union-attr]
            assert f"ratio_rate{w.long} / 0.0" in alert.expr and f"ratio_rate{w.short} / 0.0" in alert.expr
            assert f"> {factor} and" in alert.expr


def test_every_threshold_level_has_an_alert_named_after_its_area() -> None:
    alerts = {(a.vital.id, a.threshold.config_key, a.severity) for a in all_alerts() if a.vital and a.threshold}
    for vital in VITALS:
        for t in vital.thresholds:
            for level, value in (("warning", t.warning), ("critical", t.critical)):
                assert ((vital.id, t.config_key, level) in alerts) == (value is not None)
    for alert in all_alerts():
        assert re.fullmatch(r"Aivitals(Engineering|Quality|Business|Human|Infra|Sdk)[A-Z][A-Za-z0-9]+", alert.name)
        assert set(alert.annotations) == {"summary", "description", "runbook_url"}


def test_refusal_rate_alerts_above_the_ceiling_and_at_exactly_zero() -> None:
    names = {a.name for a in all_alerts() if a.vital and a.vital.id == "refusal_rate"}
    assert names == {"AivitalsQualityRefusalRateHigh", "AivitalsQualityRefusalRateZero"}
    zero = next(a for a in all_alerts() if a.name == "AivitalsQualityRefusalRateZero")
    assert "\n==\n" in zero.expr


def test_alerts_fall_back_to_the_catalogue_default_where_no_threshold_series_exists() -> None:
    alert = next(a for a in all_alerts() if a.name == "AivitalsEngineeringLatencyP95High" and a.severity == "warning")
    assert 'aivitals_threshold{threshold="latency_p95_seconds", level="warning"' in alert.expr
    assert alert.expr.rstrip().rstrip(")").rstrip().endswith(f"+ {LATENCY_SLO_SECONDS:g}")


def test_every_alert_has_a_runbook_section_with_the_three_parts() -> None:
    text = runbooks()
    for alert in all_alerts():
        anchor = alert.annotations["runbook_url"].split("#")[1]
        section = text.split(f"## {alert.name}\n")[1].split("\n## ")[0]
        assert anchor == alert.name.lower()
        for part in ("**What it means.**", "**How to confirm.**", "**What to do first.**"):
            assert part in section, (alert.name, part)


def test_a_target_that_stops_reporting_is_alerted_on() -> None:
    names = {a.name: a for a in all_alerts()}
    assert "up == 0" in names["AivitalsInfraTargetDown"].expr
    assert "unless job:aivitals_series:count" in names["AivitalsInfraVitalsAbsent"].expr


@pytest.mark.parametrize(("value", "text"), [
    (0.125, "12.5%"), (0.05, "5%"), (1 / 3, "33.33%"),
])
def test_percentages_read_as_prometheus_writes_them(value: float, text: str) -> None:
    assert humanize_percentage(value) == text


@pytest.mark.parametrize(("value", "text"), [
    (3600.0, "1h 0m 0s"), (90061.0, "1d 1h 1m 1s"), (2.56, "2.56s"), (0.25, "250ms"), (61.0, "1m 1s"),
])
def test_durations_read_as_prometheus_writes_them(value: float, text: str) -> None:
    assert humanize_duration(value) == text


def test_slo_objectives_are_shares_below_one() -> None:
    for slo in SLOS:
        assert 0.5 < slo.objective < 1
