"""The catalogue checks itself at import: a broken catalogue never ships."""

from __future__ import annotations

import re
from collections.abc import Iterable

from .labels import LABELS
from .schema import (
    Board,
    Dashboard,
    Derived,
    Figure,
    Metric,
    MetricType,
    Record,
    Replicas,
    Source,
    TargetAlert,
    Total,
    Unit,
    Vital,
)

_NAME = re.compile(r"^aivitals_[a-z][a-z0-9_]*$")
_FOR = re.compile(r"^\d+[smhd]$")
_RECORD = re.compile(r"^[a-z_]+:aivitals_[a-z0-9_]+:[a-zA-Z0-9_]+$")
_BY = re.compile(r"\bby \(([^)]*)\)")
_BARE_AGGREGATION = re.compile(r"\b(sum|min|max|avg|count)\s*\(")


class CatalogueError(ValueError):
    """The catalogue contradicts itself; the message says where."""


def _check_metric(metric: Metric) -> Iterable[str]:
    name = metric.name
    if not _NAME.match(name):
        yield f"{name}: names must match {_NAME.pattern}"
    base = name.removesuffix("_total")
    if metric.type is MetricType.COUNTER and not name.endswith("_total"):
        yield f"{name}: a counter's name ends in _total"
    if metric.type is not MetricType.COUNTER and name.endswith("_total"):
        yield f"{name}: only counters end in _total"
    if metric.unit is not Unit.NONE and not base.endswith("_" + metric.unit.value):
        yield f"{name}: unit {metric.unit.value!r} must be the name's suffix"
    if metric.unit is Unit.NONE:
        for unit in Unit:
            if unit is not Unit.NONE and base.endswith("_" + unit.value):
                yield f"{name}: ends in {unit.value!r} but declares no unit"
    if metric.type is MetricType.HISTOGRAM and list(metric.buckets) != sorted(set(metric.buckets)):
        yield f"{name}: buckets must be strictly increasing"
    if metric.type is not MetricType.HISTOGRAM and metric.buckets:
        yield f"{name}: only histograms have buckets"
    if len(set(metric.labels)) != len(metric.labels):
        yield f"{name}: a label appears twice"
    for label in metric.labels:
        if label not in LABELS:
            yield f"{name}: label {label!r} is not on the allow-list"
    for label, values in metric.label_values:
        declared = LABELS.get(label)
        if label not in metric.labels or declared is None:
            yield f"{name}: narrows {label!r}, which it does not carry"
        elif declared.closed and not set(values) <= set(declared.values):
            yield f"{name}: {label!r} values {sorted(set(values) - set(declared.values))} are not declared"
    if not metric.help.endswith("."):
        yield f"{name}: help is a sentence ending in '.'"
    yield from _check_replicas(metric)


def _check_replicas(metric: Metric) -> Iterable[str]:
    """Every series the sidecar records says how its replicas share it, and only those kinds fit their type."""
    name, replicas = metric.name, metric.replicas
    if metric.source in (Source.SIDECAR, Source.SDK_OR_SIDECAR) and replicas is None:
        yield f"{name}: the sidecar records it: say how its replicas share it (replicas=Replicas...)"
    if replicas is Replicas.EACH and metric.type is MetricType.GAUGE:
        yield f"{name}: a gauge cannot be summed over replicas; make it leader-only"
    if replicas in (Replicas.LEADER_SUM, Replicas.LEADER_MAX) and metric.type is not MetricType.GAUGE:
        yield f"{name}: only gauges are merged by the leader"
    if "replica" in metric.labels:
        yield f"{name}: the replica label is added by the sidecar, not declared"


def _check_vital(vital: Vital, metric_names: set[str]) -> Iterable[str]:
    for metric in vital.metrics:
        if metric not in metric_names:
            yield f"vital {vital.id}: reads unknown metric {metric!r}"
        elif metric not in vital.query and not vital.query.count(":"):
            yield f"vital {vital.id}: its query does not read {metric!r}"
    if "{SEL" not in vital.query:
        yield f"vital {vital.id}: its query has no SEL selector to filter on"
    for threshold in vital.thresholds:
        levels = [v for v in (threshold.warning, threshold.critical) if v is not None]
        if not levels:
            yield f"vital {vital.id}: threshold {threshold.config_key} has no level"
        if not _FOR.match(threshold.for_):
            yield f"vital {vital.id}: 'for' {threshold.for_!r} is not a duration"
        for value in levels:
            if threshold.minimum is not None and value < threshold.minimum:
                yield f"vital {vital.id}: {threshold.config_key}={value} is below {threshold.minimum}"
            if threshold.maximum is not None and value > threshold.maximum:
                yield f"vital {vital.id}: {threshold.config_key}={value} is above {threshold.maximum}"
        if (threshold.warning is not None and threshold.critical is not None
                and not threshold.comparison.at_least_as_bad(threshold.critical, threshold.warning)):
            yield f"vital {vital.id}: {threshold.config_key} critical is not beyond warning"
        if not threshold.reason:
            yield f"vital {vital.id}: threshold {threshold.config_key} gives no reason"


def _check_recording(name: str, record: str, query: str, windows: tuple[str, ...]) -> Iterable[str]:
    """A recorded query keeps ``namespace`` in every aggregation and names each window it is recorded at."""
    for labels in _BY.findall(query):
        if "namespace" not in [label.strip() for label in labels.split(",")]:
            yield f"{name}: 'by ({labels})' drops namespace, so the namespace filter cannot reach it"
    if _BARE_AGGREGATION.search(query):
        yield f"{name}: aggregate with 'by (namespace, ...)', never over everything"
    if not record:
        return
    if not _RECORD.match(record.replace("WINDOW", "")):
        yield f"{name}: record {record!r} is not level:aivitals_metric:operations"
    has_window = "WINDOW" in query.replace("WINDOW_SECONDS", "")
    if has_window != bool(windows):
        yield f"{name}: the query {'uses' if has_window else 'has no'} WINDOW but windows is {windows!r}"
    if len(windows) > 1 and "WINDOW" not in record:
        yield f"{name}: recorded at {len(windows)} windows, so its record name needs WINDOW"
    for window in windows:
        if not _FOR.match(window):
            yield f"{name}: window {window!r} is not a duration"


def _check_questions(vital: Vital, shown: set[str]) -> Iterable[str]:
    """Questions are questions, and every vital a tile or a review figure shows has some."""
    for question in vital.questions:
        if not question.endswith("?") or not question[:1].isupper():
            yield f"vital {vital.id}: question {question!r} must start with a capital and end in '?'"
    if vital.id in shown and not vital.questions:
        yield f"vital {vital.id}: shown on a tile or in the monthly review, so it needs questions to ask"


def _check_figures(figures: tuple[Figure, ...], vitals: set[str], metric_names: set[str]) -> Iterable[str]:
    names: set[str] = set()
    for figure in figures:
        where = f"figure {figure.name}"
        if figure.name in names:
            yield f"{where}: defined twice"
        if figure.vital and figure.vital not in vitals:
            yield f"{where}: unknown vital {figure.vital!r}"
        derived = [*figure.sum_of, *(figure.ratio_of or ())]
        if bool(figure.query) == bool(derived):
            yield f"{where}: give either a query or the figures it is derived from"
        for part in derived:
            if part not in names:
                yield f"{where}: derived from {part!r}, which is not defined before it"
        if figure.query and ("{SEL" not in figure.query or "WINDOW" not in figure.query):
            yield f"{where}: its query needs a SEL selector and the WINDOW range"
        for metric in figure.metrics:
            if metric not in metric_names:
                yield f"{where}: reads unknown metric {metric!r}"
            elif metric not in figure.query:
                yield f"{where}: its query does not read {metric!r}"
        if figure.query and not figure.metrics:
            yield f"{where}: name the metrics its query reads"
        names.add(figure.name)


def _check_placement(vitals: tuple[Vital, ...], derived: tuple[Derived, ...],
                     boards: tuple[Board, ...]) -> Iterable[str]:
    """Every vital and every shown derived series sits in a row its dashboard declares, each place taken once."""
    rows = {b.dashboard: b.rows for b in boards}
    for board in Dashboard:
        if board not in rows:
            yield f"dashboard {board.value}: no Board declares its title and rows"
    taken: dict[tuple[Dashboard, str, int], str] = {}
    items: list[tuple[str, Dashboard | None, str, int]] = [
        *((f"vital {v.id}", v.dashboard, v.row, v.order) for v in vitals),
        *((f"derived {d.record}", d.dashboard, d.row, d.order) for d in derived)]
    for name, dashboard, row, order in items:
        if dashboard is None:
            if row:
                yield f"{name}: has row {row!r} but no dashboard"
            continue
        if row not in rows.get(dashboard, ()):
            yield (f"{name}: row {row!r} is not one of the {dashboard.value} dashboard's rows "
                   f"{list(rows.get(dashboard, ()))}; add it to that Board in boards.py or pick one")
            continue
        if order < 1:
            yield f"{name}: give its place in the row as order=1, 2, ..."
        elif (dashboard, row, order) in taken:
            yield f"{name}: {dashboard.value} / {row} / order {order} is taken by {taken[dashboard, row, order]}"
        taken[dashboard, row, order] = name


def _check_runbooks(vitals: tuple[Vital, ...]) -> Iterable[str]:
    for vital in vitals:
        if vital.thresholds and not vital.first_step:
            yield f"vital {vital.id}: it alerts, so give first_step, what the runbook says to do first"


def _check_totals(totals: tuple[Total, ...], vitals: set[str]) -> Iterable[str]:
    for total in totals:
        where = f"total {total.title}"
        if bool(total.query) == bool(total.vital):
            yield f"{where}: give either a query over the period or the vital to read over it"
        if total.vital and total.vital not in vitals:
            yield f"{where}: unknown vital {total.vital!r}"
        if total.query and ("{SEL" not in total.query or "WINDOW" not in total.query or not total.filters):
            yield f"{where}: its query needs a SEL selector, the WINDOW range and the filters SEL may use"


def _check_targets(alerts: tuple[TargetAlert, ...], records: set[str]) -> Iterable[str]:
    names: set[str] = set()
    for alert in alerts:
        if alert.name in names:
            yield f"target alert {alert.name}: defined twice"
        names.add(alert.name)
        if not _FOR.match(alert.for_):
            yield f"target alert {alert.name}: 'for' {alert.for_!r} is not a duration"
        for name in re.findall(r"\b[a-z_]+:aivitals_[a-z0-9_]+:[a-zA-Z0-9_]+", alert.expr):
            if name not in records:
                yield f"target alert {alert.name}: reads {name}, which nothing records"


def _check_records(drift: tuple[Record, ...], records: set[str]) -> Iterable[str]:
    for rec in drift:
        if not _RECORD.match(rec.record):
            yield f"record {rec.record}: not level:aivitals_metric:operations"
        for labels in _BY.findall(rec.expr):
            if "namespace" not in [label.strip() for label in labels.split(",")]:
                yield (f"record {rec.record}: 'by ({labels})' drops namespace: two namespaces' series of one "
                       "model would be added together")
        if rec.record in records:
            yield f"record {rec.record}: recorded twice"
        records.add(rec.record)


def _check_vitals(vitals: tuple[Vital, ...], metric_names: set[str]) -> Iterable[str]:
    """Each vital once, each config key once, and each vital's own checks."""
    ids: set[str] = set()
    keys: set[str] = set()
    for vital in vitals:
        if vital.id in ids:
            yield f"vital {vital.id}: defined twice"
        ids.add(vital.id)
        for threshold in vital.thresholds:
            if threshold.config_key in keys:
                yield f"vital {vital.id}: config key {threshold.config_key} used twice"
            keys.add(threshold.config_key)
        yield from _check_vital(vital, metric_names)
        if vital.record or vital.windows:
            yield from _check_recording(f"vital {vital.id}", vital.record, vital.query, vital.windows)
        elif ":" not in vital.query or "by (" in vital.query:
            yield f"vital {vital.id}: derived vitals are recorded once; give it a record name"


def validate(metrics: tuple[Metric, ...], vitals: tuple[Vital, ...], derived: tuple[Derived, ...] = (),
             figures: tuple[Figure, ...] = (), *, boards: tuple[Board, ...] | None = None,
             totals: tuple[Total, ...] = (), targets: tuple[TargetAlert, ...] = (),
             drift: tuple[Record, ...] = ()) -> None:
    """Raise CatalogueError listing every problem found (``boards`` defaults to the catalogue's)."""
    if boards is None:
        from .boards import BOARDS

        boards = BOARDS
    problems: list[str] = []
    problems.extend(_check_placement(vitals, derived, boards))
    problems.extend(_check_runbooks(vitals))
    problems.extend(_check_totals(totals, {v.id for v in vitals}))
    shown = {v.id for v in vitals if v.tile} | {f.vital for f in figures if f.vital}
    for vital in vitals:
        problems.extend(_check_questions(vital, shown))
    problems.extend(_check_figures(figures, {v.id for v in vitals}, {m.name for m in metrics}))
    seen: set[str] = set()
    for metric in metrics:
        if metric.name in seen:
            problems.append(f"{metric.name}: defined twice")
        seen.add(metric.name)
        problems.extend(_check_metric(metric))
    problems.extend(_check_vitals(vitals, seen))
    records: set[str] = set()
    items: list[Vital | Derived] = [*vitals, *derived]
    for item in items:
        if not item.record:
            continue
        if item.record in records:
            problems.append(f"record {item.record}: recorded twice")
        records.add(item.record)
    problems.extend(_check_records(drift, records))
    problems.extend(_check_targets(targets, records))
    for item in derived:
        problems.extend(_check_recording(f"derived {item.record}", item.record, item.query, item.windows))
        if "{SEL" not in item.query:
            problems.append(f"derived {item.record}: its query has no SEL selector to filter on")
    for vital in vitals:
        for threshold in vital.thresholds:
            if threshold.subject and threshold.subject not in records:
                problems.append(f"vital {vital.id}: threshold subject {threshold.subject!r} is not recorded")
    numbers = sorted(v.number for v in vitals if v.number is not None)
    if numbers != list(range(1, 31)):
        problems.append(f"the 30 vitals must be numbered 1..30 once each, got {numbers}")
    tiles = {v.tile.position for v in vitals if v.tile}
    if tiles != set(range(1, 7)):
        problems.append(f"the executive dashboard needs tiles 1..6, got {sorted(tiles)}")
    if problems:
        raise CatalogueError("catalogue is inconsistent:\n  " + "\n  ".join(problems))
