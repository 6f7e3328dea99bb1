"""Alerting rules: one per catalogue threshold and level, the SLO burn rates, and missing targets.

Thresholds are looked up at evaluation time from ``aivitals_threshold`` series
(exported from the config file by ``aivitals.config.ThresholdCollector``), most
specific first: service and model, service, model, global; the catalogue's
default applies where none is set. Changing a threshold needs no new rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...catalogue import (
    DERIVED,
    METRICS_BY_NAME,
    SLOS,
    TARGET_ALERTS,
    VITALS,
    Area,
    Severity,
    Slo,
    TargetAlert,
    Threshold,
    Unit,
    Vital,
)
from ...catalogue.promql import recorded_labels, render, series_labels, subject
from . import human
from .naming import alert_name, anchor, area_name, camel, crossing
from .slo import burn_expr

THRESHOLD_METRIC = METRICS_BY_NAME["aivitals_threshold"].name
LEVELS: tuple[Severity, ...] = (Severity.WARNING, Severity.CRITICAL)


@dataclass(frozen=True)
class Alert:
    """One alerting rule and what it was made from (runbooks and rule tests read it)."""

    name: str
    severity: str
    expr: str
    for_: str
    labels: dict[str, str]
    annotations: dict[str, str]
    vital: Vital | None = None
    threshold: Threshold | None = None
    default: float | None = None
    slo: Slo | None = None
    meaning: str = ""
    confirm: list[str] = field(default_factory=list)
    #: What the runbook says to do first.
    first_step: str = ""

    def rule(self) -> dict[str, Any]:
        return {"alert": self.name, "expr": self.expr, "for": self.for_, "labels": self.labels,
                "annotations": self.annotations}


def number(value: float) -> str:
    return f"{value:.10g}"


def effective_threshold(value: str, key: str, level: str, default: float, labels: tuple[str, ...]) -> str:
    """The threshold for each series of ``value``: the most specific config series, else the default.

    Only the tiers the series can match are written: a vital kept per model has no service tier.
    """
    sel = f'threshold="{key}", level="{level}"'
    zero = f"0 * {value}"
    tiers = []
    if "service" in labels and "model" in labels:
        tiers.append(f'{zero} + on (service, model) group_left () max by (service, model) '
                     f'({THRESHOLD_METRIC}{{{sel}, service!="", model!=""}})')
    if "service" in labels:
        tiers.append(f'{zero} + on (service) group_left () max by (service) '
                     f'({THRESHOLD_METRIC}{{{sel}, service!="", model=""}})')
    if "model" in labels:
        tiers.append(f'{zero} + on (model) group_left () max by (model) '
                     f'({THRESHOLD_METRIC}{{{sel}, service="", model!=""}})')
    tiers.append(f'{zero} + on () group_left () max ({THRESHOLD_METRIC}{{{sel}, service="", model=""}})')
    tiers.append(f"{zero} + {number(default)}")
    return "\n   or\n  ".join(tiers)


def _where(labels: tuple[str, ...]) -> str:
    scope = [name for name in ("service", "model") if name in labels]
    return f"globally or per {' or '.join(scope)}" if scope else "globally"


def scope(labels: tuple[str, ...]) -> str:
    """'service {{ $labels.service }}, model {{ $labels.model }}' for the labels that identify a series."""
    shown = [label for label in labels if label != "namespace"]
    return ", ".join(f"{label} {{{{ $labels.{label} }}}}" for label in shown) or "the whole deployment"


def _unit(vital: Vital, threshold: Threshold) -> Unit:
    """The unit of what the threshold is checked against: the vital, or the derived series it names."""
    if not threshold.subject:
        return vital.unit
    return next(d.unit for d in DERIVED if threshold.subject in {render(d.record, w) for w in d.windows or (None,)})


def threshold_alerts(vital: Vital, threshold: Threshold, runbook: str) -> list[Alert]:
    value = threshold.subject or subject(vital)
    labels = recorded_labels().get(value) or series_labels(value)
    name = alert_name(vital, threshold)
    unit = _unit(vital, threshold)
    alerts = []
    for level in LEVELS:
        default = threshold.warning if level is Severity.WARNING else threshold.critical
        if default is None:
            continue
        limit = effective_threshold(value, threshold.config_key, level.value, default, labels)
        expr = f"{value}\n{threshold.comparison.value}\n (\n  {limit}\n )"
        if threshold.condition:
            expr = f"(\n{expr}\n)\nand on ({', '.join(threshold.condition_on or labels)})\n{threshold.condition}"
        word = crossing(threshold.comparison)
        what = vital.title if not threshold.subject else f"{vital.title} as a share of capacity"
        annotations = {
            "summary": f"{what} is {word} its {level.value} threshold for {scope(labels)}.",
            "description": (f"{what} is {human.template(unit)} for {scope(labels)}, {word} the {level.value} "
                            f"threshold (default {human.python(unit, default)}; set `{threshold.config_key}` "
                            f"{_where(labels)} in the thresholds config). {threshold.reason}"),
            "runbook_url": f"{runbook}#{anchor(name)}",
        }
        alerts.append(Alert(
            name, level.value, expr, threshold.for_,
            {"severity": level.value, "area": vital.area.value, "vital": vital.id}, annotations,
            vital=vital, threshold=threshold, default=default,
            meaning=f"{vital.description} {threshold.reason}", confirm=[value],
            first_step=vital.first_step))
    return alerts


def slo_alerts(slo: Slo, runbook: str) -> list[Alert]:
    name = f"Aivitals{area_name(slo.area)}{camel(slo.id)}BudgetBurn"
    out = []
    for severity, for_ in ((Severity.CRITICAL, "2m"), (Severity.WARNING, "15m")):
        page = "page" if severity is Severity.CRITICAL else "ticket"
        out.append(Alert(
            name, severity.value, burn_expr(slo, severity), for_,
            {"severity": severity.value, "area": slo.area.value, "slo": slo.id},
            {"summary": f"{slo.title} error budget burning fast for service {{{{ $labels.service }}}}, "
                        f"model {{{{ $labels.model }}}} ({page}).",
             "description": (f"{slo.title} SLO ({human.humanize_percentage(slo.objective)} over {slo.period}) of "
                             "service {{ $labels.service }}, model {{ $labels.model }} is spending its error budget "
                             '{{ $value | printf "%.3g" }} times faster than the period allows. ' + slo.description),
             "runbook_url": f"{runbook}#{anchor(name)}"},
            slo=slo, meaning=slo.description,
            confirm=[render(slo.errors, w) for w in ("5m", "1h", "1d")], first_step=slo.first_step))
    return out


def target_alert(target: TargetAlert, runbook: str) -> Alert:
    """An alert on the scrape targets, written out in the catalogue."""
    return Alert(target.name, Severity.WARNING.value, target.expr, target.for_,
                 {"severity": Severity.WARNING.value, "area": Area.INFRA.value},
                 {"summary": target.summary, "description": target.description,
                  "runbook_url": f"{runbook}#{anchor(target.name)}"},
                 meaning=target.meaning, confirm=list(target.confirm), first_step=target.first_step)


def all_alerts(runbook: str = "docs/runbooks.md") -> list[Alert]:
    out: list[Alert] = []
    for vital in VITALS:
        for threshold in vital.thresholds:
            out.extend(threshold_alerts(vital, threshold, runbook))
    for slo in SLOS:
        out.extend(slo_alerts(slo, runbook))
    out.extend(target_alert(target, runbook) for target in TARGET_ALERTS)
    return out


def alert_groups(runbook: str = "docs/runbooks.md") -> list[dict[str, Any]]:
    """The rule groups of alerts/aivitals-alerts.yaml: one per area, SLOs and targets apart."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for alert in all_alerts(runbook):
        key = "slo" if alert.slo else alert.labels["area"]
        groups.setdefault(f"aivitals-{key}-alerts", []).append(alert.rule())
    return [{"name": name, "rules": rules} for name, rules in groups.items()]


__all__ = ["Alert", "alert_groups", "all_alerts"]
