"""Grafana dashboards generated from the catalogue."""

from __future__ import annotations


def render_dashboards() -> dict[str, str]:
    return {}
