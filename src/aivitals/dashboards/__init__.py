"""Grafana dashboards generated from the catalogue (grafana-foundation-sdk, house style in ``style``)."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as db

from ..catalogue import Dashboard
from . import executive, style
from .layout import LAYOUT, TITLES
from .panels import panel


def build(board: Dashboard) -> db.Dashboard:
    """One dashboard: the executive tiles, or the rows of its layout."""
    if board is Dashboard.EXECUTIVE:
        return executive.build()
    title, description = TITLES[board]
    out = style.dashboard(board.value, title, description).link(style.link(*_back()))
    for row, keys in LAYOUT[board]:
        out = out.with_row(db.Row(row))
        for key in keys:
            out = out.with_panel(panel(key))
    return out


def _back() -> tuple[str, str]:
    return TITLES[Dashboard.EXECUTIVE][0], Dashboard.EXECUTIVE.value


def render_dashboards() -> dict[str, str]:
    """File name -> dashboard JSON for every dashboard."""
    return {f"{style.UID_PREFIX}{board.value}.json": style.encode(build(board)) for board in Dashboard}


__all__ = ["build", "render_dashboards"]
