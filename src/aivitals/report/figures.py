"""A month's figures, read from raw series: each catalogue figure's query over the month, and per day.

A query with no series gives an absent figure (None), never a zero; a
derived figure (total cost, ROI, cost per outcome) is computed from the
others as the catalogue declares it, and is absent when what it needs is.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from ..catalogue import FIGURES, Figure, Format, Section
from ..catalogue import drift as drift_promql
from .period import DAY_SECONDS, Month
from .query import Prometheus
from .scope import ServiceScope

#: Threads for the queries: Prometheus answers them in parallel; more adds little.
WORKERS = 8
_PLACEHOLDER = "9999d"


def _drift(name: str, title: str, vital: str, matcher: str, description: str) -> Figure:
    """Largest PSI over the month, written by the drift package (the one place PSI is PromQL)."""
    expr = drift_promql.psi(_PLACEHOLDER, f"SEL, {matcher}").replace(f"[{_PLACEHOLDER}]", "[WINDOW]")
    return Figure(name, title, Section.OPERATIONAL, Format.NUMBER, description, f"max({expr})",
                  ("aivitals_feature_bin_observations_total", "aivitals_feature_reference_bin_ratio"), vital=vital)


DRIFT_FIGURES = (
    _drift("drift_psi_max", "Input drift (largest PSI)", "distribution_shift", 'feature!="__prediction__"',
           "The largest per-feature PSI of the month's inputs against the reference profile."),
    _drift("prediction_drift_psi", "Prediction drift (PSI)", "prediction_drift", 'feature="__prediction__"',
           "PSI of the month's predictions against the reference profile."),
)


def review_figures() -> tuple[Figure, ...]:
    """The catalogue's figures with the drift figures after the last operational query figure."""
    figures = list(FIGURES)
    at = max(i for i, f in enumerate(figures) if f.section is Section.OPERATIONAL) + 1
    return (*figures[:at], *DRIFT_FIGURES, *figures[at:])


def selector(figure: Figure, service: str | None) -> str:
    """``service="S"`` for a figure whose series all carry the service label (see ``scope``); '' otherwise."""
    return ServiceScope(service).selector(figure.query)


@dataclass(frozen=True)
class PeriodFigures:
    """The figures of one month: a value per figure name, and per-day values for the trend charts."""

    month: Month
    values: dict[str, float | None]
    daily: dict[str, list[float | None]] = field(default_factory=dict)


def derive(figures: tuple[Figure, ...], values: dict[str, float | None]) -> dict[str, float | None]:
    """Fill the derived figures, in catalogue order: sums of the parts present, ratios of present parts."""
    out = dict(values)
    for figure in figures:
        if figure.sum_of:
            parts = [out.get(name) for name in figure.sum_of]
            present = [p for p in parts if p is not None]
            out[figure.name] = sum(present) if present else None
        elif figure.ratio_of:
            num, den = (out.get(name) for name in figure.ratio_of)
            out[figure.name] = num / den if num is not None and den else None
    return out


def read_month(prometheus: Prometheus, month: Month, service: str | None,
               figures: tuple[Figure, ...] | None = None) -> PeriodFigures:
    """Every figure of ``month`` and the daily values of those charted per day."""
    figures = figures or review_figures()
    queried = [f for f in figures if f.query]
    scope = ServiceScope(service)

    def total(figure: Figure) -> float | None:
        return prometheus.instant(scope.render(figure.query, month.window), month.end)

    def per_day(figure: Figure) -> list[float | None]:
        points = prometheus.range(scope.render(figure.query, "1d"),
                                  month.start + DAY_SECONDS, month.end, DAY_SECONDS)
        days: list[float | None] = [None] * month.days
        for point in points:
            index = round((point.time - month.start) / DAY_SECONDS) - 1
            if 0 <= index < month.days:
                days[index] = point.value
        return days

    charted = [f for f in queried if f.daily]
    with ThreadPoolExecutor(WORKERS) as pool:
        totals = list(pool.map(total, queried))
        dailies = list(pool.map(per_day, charted))
    values = derive(figures, {f.name: v for f, v in zip(queried, totals, strict=True)})
    return PeriodFigures(month, values, {f.name: d for f, d in zip(charted, dailies, strict=True)})
