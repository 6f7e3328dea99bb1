"""The executive dashboard: the catalogue's six tiles and the period's totals."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as db

from ..catalogue import METRICS_BY_NAME, VITALS, VITALS_BY_ID, Comparison, Dashboard, Vital
from ..rules.promql import render
from . import style
from .layout import TITLES
from .panels import describe, queries

TILE_HEIGHT = 6


def _worst(vital: Vital) -> str:
    """Across services and models a tile shows the worst value: the highest for a ceiling, else the lowest."""
    ceiling = any(t.comparison is Comparison.ABOVE for t in vital.thresholds)
    return "max" if ceiling else "min"


def tile(vital: Vital, width: int) -> object:
    assert vital.tile is not None
    query, _, _ = queries(vital)[0]
    title = vital.tile.title
    description = (f"{vital.tile.question} {describe(vital)} The tile shows the worst value across the selected "
                   f"services and models; open {vital.dashboard.value} for the rest.")
    return style.stat_panel(title, description, vital.grafana_unit, [style.target(f"{_worst(vital)}({query})")],
                            tuple(t for t in vital.thresholds if not t.subject), width, TILE_HEIGHT,
                            [style.link(f"{vital.title} in detail", vital.dashboard.value)])


def _period(query: str, labels: tuple[str, ...]) -> str:
    """A catalogue query over the dashboard's time range."""
    return render(query.replace("WINDOW_SECONDS", "$__range_s").replace("WINDOW", "$__range"), None,
                  style.sel(labels))


def totals() -> list[object]:
    requests = METRICS_BY_NAME["aivitals_requests_total"].name
    spend = METRICS_BY_NAME["aivitals_cost_usd_total"].name
    roi = VITALS_BY_ID["roi"]
    unmetered = VITALS_BY_ID["unmetered_share"]
    sm = ("namespace", "service", "model")
    return [
        style.stat_panel("Requests", "Model calls in the selected period.", "short",
                         [style.target(f"sum(increase({requests}{{{style.sel(sm)}}}[$__range]))", instant=True)],
                         width=6, height=4, links=[style.link("Traffic", Dashboard.ENGINEERING.value)]),
        style.stat_panel("Spend", "Spend on model calls in the selected period, from the price table. Calls whose "
                         "tokens are unknown are not in it: see Unmetered calls beside it.",
                         "currencyUSD",
                         [style.target(f"sum(increase({spend}{{{style.sel(sm)}}}[$__range]))", instant=True)],
                         width=6, height=4, links=[style.link("Cost", Dashboard.ENGINEERING.value)]),
        style.stat_panel("Unmetered calls", unmetered.description + " The highest of the selected services and "
                         "models, over the selected period.", unmetered.grafana_unit,
                         [style.target(f"{_worst(unmetered)}({_period(unmetered.query, sm)})", instant=True)],
                         tuple(unmetered.thresholds), width=6, height=4,
                         links=[style.link("Cost", Dashboard.ENGINEERING.value)]),
        style.stat_panel("ROI", roi.description + " Over the selected period; the lowest of the selected "
                         "namespaces, as the tiles show the worst value.", roi.grafana_unit,
                         [style.target(f"{_worst(roi)}({_period(roi.query, ('namespace',))})", instant=True)],
                         tuple(roi.thresholds), width=6, height=4,
                         links=[style.link("Business", Dashboard.BUSINESS.value)]),
    ]


def build() -> db.Dashboard:
    title, description = TITLES[Dashboard.EXECUTIVE]
    board = style.dashboard(Dashboard.EXECUTIVE.value, title, description)
    positions: dict[int, list[Vital]] = {}
    for vital in VITALS:
        if vital.tile:
            positions.setdefault(vital.tile.position, []).append(vital)
    board = board.with_row(db.Row("Is it working?"))
    for position in sorted(positions):
        shared = positions[position]
        for vital in shared:
            board = board.with_panel(tile(vital, 8 // len(shared)))  # type: ignore[arg-type]
    board = board.with_row(db.Row("This period"))
    for panel in totals():
        board = board.with_panel(panel)  # type: ignore[arg-type]
    for dash in Dashboard:
        if dash is not Dashboard.EXECUTIVE:
            board = board.link(style.link(TITLES[dash][0], dash.value))
    return board
