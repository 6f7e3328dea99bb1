"""Grafana dashboards generated from the catalogue (grafana-foundation-sdk, house style in ``style``)."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as db

from ...catalogue import BOARDS_BY_DASHBOARD, DERIVED, VITALS, Dashboard, Derived, Vital
from . import executive, style
from .panels import panel


def in_row(board: Dashboard, row: str) -> list[Vital | Derived]:
    """The vitals and derived series the catalogue places in one row, in their order."""
    items: list[Vital | Derived] = [*VITALS, *DERIVED]
    return sorted((i for i in items if i.dashboard is board and i.row == row), key=lambda i: i.order)


def build(board: Dashboard) -> db.Dashboard:
    """One dashboard: the executive tiles, or its rows of panels."""
    if board is Dashboard.EXECUTIVE:
        return executive.build()
    spec = BOARDS_BY_DASHBOARD[board]
    home = BOARDS_BY_DASHBOARD[Dashboard.EXECUTIVE]
    out = style.dashboard(board.value, spec.title, spec.description).link(style.link(home.title, home.dashboard.value))
    for row in spec.rows:
        out = out.with_row(db.Row(row))
        for item in in_row(board, row):
            out = out.with_panel(panel(item))
    return out


def render_dashboards() -> dict[str, str]:
    """File name -> dashboard JSON for every dashboard."""
    return {f"{style.UID_PREFIX}{board.value}.json": style.encode(build(board)) for board in Dashboard}


__all__ = ["build", "render_dashboards"]
