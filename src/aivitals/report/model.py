"""The review as data: the month's figures beside the month before's, coverage and the forecast, and its JSON.

Building one asks Prometheus everything the page shows; rendering it asks
nothing more, so the HTML, the PDF and the JSON always tell the same facts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..catalogue import Figure
from . import error_analysis
from .coverage import Coverage, measure, require_complete, require_data
from .figures import PeriodFigures, read_month, review_figures
from .forecast import Forecast, forecast
from .period import Month
from .query import Prometheus
from .scope import ServiceScope

#: In the JSON whether or not their series exist (null when absent); other figures only when present.
CORE = ("requests", "tokens", "cost_inference_usd", "cost_compute_usd", "cost_storage_usd", "cost_maintenance_usd",
        "cost_total_usd", "business_value_usd", "roi", "cost_per_outcome_usd", "latency_p95_seconds", "error_rate")
FIXED_BUCKETS = ("cost_compute_usd", "cost_storage_usd", "cost_maintenance_usd")


@dataclass(frozen=True)
class Compared:
    """One figure this month and the month before; ``delta`` is this minus that, when both exist."""

    value: float | None
    previous: float | None

    @property
    def delta(self) -> float | None:
        return None if self.value is None or self.previous is None else self.value - self.previous


@dataclass(frozen=True)
class Review:
    month: Month
    service: str | None
    figures: tuple[Figure, ...]
    current: PeriodFigures
    previous: PeriodFigures | None
    coverage: Coverage
    previous_coverage: Coverage
    forecast: Forecast | None
    #: The confusion matrices and FP/FN by group, where the sidecar recorded them; None otherwise.
    errors: error_analysis.ErrorAnalysis | None = None

    def get(self, name: str) -> Compared:
        before = self.previous.values.get(name) if self.previous else None
        return Compared(self.current.values.get(name), before)

    @property
    def scope(self) -> ServiceScope:
        return ServiceScope(self.service)

    def all_services(self, figure: Figure) -> bool:
        """A service was chosen, but this figure is (or is derived from) series without the service label."""
        return self.scope.figure_mixes(figure, {f.name: f for f in self.figures})

    def shown(self, figure: Figure) -> bool:
        compared = self.get(figure.name)
        return figure.name in CORE or compared.value is not None or compared.previous is not None

    def as_json(self) -> dict[str, Any]:
        figures = {}
        for figure in self.figures:
            if self.shown(figure):
                c = self.get(figure.name)
                figures[figure.name] = {"value": c.value, "previous": c.previous, "delta": c.delta}
                if self.all_services(figure):
                    figures[figure.name]["all_services"] = True
        coverage = self.coverage.as_json()
        coverage["previous"] = self.previous_coverage.as_json()
        out = {"month": str(self.month), "previous_month": str(self.month.previous()), "service": self.service,
               "coverage": coverage, "figures": figures,
               "forecast": self.forecast.as_json() if self.forecast else None}
        if self.errors is not None:  # absent, not empty, where the store has no error-analysis series
            out["error_analysis"] = self.errors.as_json()
        return out


def build(prometheus: Prometheus, month: Month, now: datetime, service: str | None = None,
          complete: bool = False) -> Review:
    """Ask Prometheus for ``month`` and the month before; refuse what cannot be reported honestly."""
    month.require_over(now)
    prometheus.check()
    scope = ServiceScope(service)
    # coverage counts the series labelled with the service: a per-deployment series is no evidence of it
    sel = scope.matcher
    coverage = measure(prometheus, month, sel)
    require_data(coverage, month, service)
    if complete:
        require_complete(coverage, month)
    before = month.previous()
    previous_coverage = measure(prometheus, before, sel)
    figures = review_figures()
    current = read_month(prometheus, month, service, figures)
    previous = None if previous_coverage.empty else read_month(prometheus, before, service, figures)
    errors = error_analysis.read(prometheus, month, None if previous is None else before, scope)
    return Review(month, service, figures, current, previous, coverage, previous_coverage,
                  _forecast(month, current), errors)


def _forecast(month: Month, current: PeriodFigures) -> Forecast | None:
    fixed = [current.values.get(name) for name in FIXED_BUCKETS]
    present = [f for f in fixed if f is not None]
    return forecast(month, current.daily.get("cost_inference_usd", []), current.daily.get("throughput_peak_rps", []),
                    sum(present) if present else None)
