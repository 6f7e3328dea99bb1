"""A panel for each catalogue entry: the recorded series, filtered, in its unit, with its thresholds."""

from __future__ import annotations

from grafana_foundation_sdk.builders import prometheus as prom
from grafana_foundation_sdk.builders import timeseries

from ...catalogue import Derived, Threshold, Vital
from ...catalogue.promql import recorded_labels, render, series_labels
from . import style


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def threshold_text(items: tuple[Threshold, ...]) -> str:
    parts = [f"{t.comparison.value} {_fmt(t.warning)} warning, {_fmt(t.critical)} critical (`{t.config_key}`)"
             for t in items if not t.subject]
    return (" Alerts: " + "; ".join(parts) + ".") if parts else ""


def queries(item: Vital | Derived) -> list[tuple[str, tuple[str, ...], str]]:
    """(PromQL, labels it keeps, window) for each window a panel shows."""
    if not item.record:
        labels = series_labels(item.query)
        return [(render(item.query, None, style.sel(labels)), labels, "")]
    out = []
    for window in item.windows or (None,):
        name = render(item.record, window)
        labels = recorded_labels()[name]
        sel = style.sel(labels)
        out.append((f"{name}{{{sel}}}" if sel else name, labels, window or ""))
    return out


def targets(item: Vital | Derived, instant: bool = False) -> list[prom.Dataquery]:
    found = queries(item)
    many = len(found) > 1
    return [style.target(q, style.legend(labels) + (f" ({w})" if many else ""), chr(ord("A") + i), instant)
            for i, (q, labels, w) in enumerate(found)]


def describe(item: Vital | Derived) -> str:
    if isinstance(item, Vital):
        text = item.description + threshold_text(item.thresholds)
        if item.planned:
            text += f" Fed by {item.planned}."
    else:
        text = item.description
    names = sorted({render(item.record, w) for w in item.windows or (None,)}) if item.record else []
    return text + (" Recorded as " + ", ".join(f"`{n}`" for n in names) + "." if names else "")


def panel(item: Vital | Derived) -> timeseries.Panel:
    """The time series panel of a vital or a derived series."""
    if isinstance(item, Vital):
        title = (f"#{item.number} " if item.number else "") + item.title
        limits = tuple(t for t in item.thresholds if not t.subject)
    else:
        title, limits = item.description.split(":")[0].rstrip("."), ()
    return style.timeseries_panel(title, describe(item), item.grafana_unit, targets(item), limits)
