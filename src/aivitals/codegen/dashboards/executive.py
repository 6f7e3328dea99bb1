"""The executive dashboard: the catalogue's six tiles and the period's totals (``TOTALS``)."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as db

from ...catalogue import BOARDS, BOARDS_BY_DASHBOARD, TOTALS, VITALS, VITALS_BY_ID, Comparison, Dashboard, Total, Vital
from ...catalogue.promql import render, series_labels
from . import style
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


def total(spec: Total) -> object:
    """A number of the period: the catalogue's query, or the worst value of a vital, over the time range."""
    link = [style.link(spec.link, spec.board.value)]
    if not spec.vital:
        return style.stat_panel(spec.title, spec.description, spec.grafana_unit,
                                [style.target(_period(spec.query, spec.filters), instant=True)],
                                width=6, height=4, links=link)
    vital = VITALS_BY_ID[spec.vital]
    query = f"{_worst(vital)}({_period(vital.query, series_labels(vital.query))})"
    return style.stat_panel(spec.title, vital.description + spec.description, vital.grafana_unit,
                            [style.target(query, instant=True)], tuple(vital.thresholds), width=6, height=4,
                            links=link)


def build() -> db.Dashboard:
    spec = BOARDS_BY_DASHBOARD[Dashboard.EXECUTIVE]
    board = style.dashboard(Dashboard.EXECUTIVE.value, spec.title, spec.description)
    positions: dict[int, list[Vital]] = {}
    for vital in VITALS:
        if vital.tile:
            positions.setdefault(vital.tile.position, []).append(vital)
    tiles_row, totals_row = spec.rows
    board = board.with_row(db.Row(tiles_row))
    for position in sorted(positions):
        shared = positions[position]
        for vital in shared:
            board = board.with_panel(tile(vital, 8 // len(shared)))  # type: ignore[arg-type]
    board = board.with_row(db.Row(totals_row))
    for spec_ in TOTALS:
        board = board.with_panel(total(spec_))  # type: ignore[arg-type]
    for other in BOARDS:
        if other.dashboard is not Dashboard.EXECUTIVE:
            board = board.link(style.link(other.title, other.dashboard.value))
    return board
