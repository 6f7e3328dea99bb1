"""The dashboards: each one's title, purpose and rows, and the executive dashboard's totals.

Which panel goes in which row is said by the vital or derived series itself
(``dashboard``, ``row``, ``order``); a board only declares its rows, in order.
"""

from __future__ import annotations

from .schema import Board, Dashboard, Total

SM = ("namespace", "service", "model")

BOARDS: tuple[Board, ...] = (
    Board(dashboard=Dashboard.EXECUTIVE, title="aivitals / Executive",
          description="Six numbers that say whether the AI works, readable in 30 seconds.",
          rows=("Is it working?", "This period")),
    Board(dashboard=Dashboard.ENGINEERING, title="aivitals / Engineering",
          description="Traffic, latency, errors, cost, cache and drift.",
          rows=("Traffic", "Latency", "Errors and SLOs", "Cost and cache", "Drift")),
    Board(dashboard=Dashboard.QUALITY, title="aivitals / Quality & safety",
          description="Task quality, grounding and safety of the answers.",
          rows=("Task quality", "Retrieval and grounding", "Safety")),
    Board(dashboard=Dashboard.BUSINESS, title="aivitals / Business",
          description="What changed in the world: KPI, cost per outcome, adoption, ROI.",
          rows=("Outcomes", "Adoption", "Units of work")),
    Board(dashboard=Dashboard.OPERATIONS, title="aivitals / Operations",
          description="Incidents, retraining freshness and aivitals' own health.",
          rows=("Incidents", "Retraining freshness", "aivitals itself")),
    Board(dashboard=Dashboard.GPU_HOST, title="aivitals / GPU & host", description="GPU and host saturation.",
          rows=("GPU", "Host")),
)

BOARDS_BY_DASHBOARD: dict[Dashboard, Board] = {b.dashboard: b for b in BOARDS}

#: The executive dashboard's "This period" row, left to right.
TOTALS: tuple[Total, ...] = (
    Total(title="Requests", description="Model calls in the selected period.",
          query="sum(increase(aivitals_requests_total{SEL}[WINDOW]))", filters=SM,
          link="Traffic", board=Dashboard.ENGINEERING),
    Total(title="Spend", description="Spend on model calls in the selected period, from the price table. Calls "
          "whose tokens are unknown are not in it: see Unmetered calls beside it.",
          query="sum(increase(aivitals_cost_usd_total{SEL}[WINDOW]))", filters=SM, grafana_unit="currencyUSD",
          link="Cost", board=Dashboard.ENGINEERING),
    Total(title="Unmetered calls", vital="unmetered_share",
          description=" The highest of the selected services and models, over the selected period.",
          link="Cost", board=Dashboard.ENGINEERING),
    Total(title="ROI", vital="roi",
          description=" Over the selected period; the lowest of the selected namespaces, as the tiles show the "
          "worst value.",
          link="Business", board=Dashboard.BUSINESS),
)
