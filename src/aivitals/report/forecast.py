"""Scalability cost: next month's cost and peak throughput at this month's growth, a labelled forecast.

The seed article asks for the additional cost as usage grows, "a forecast
based on throughput demand". Here it is a least-squares straight line over
the month's daily figures, extended over the next month's days: inference
spend is the sum of the line over those days (never below zero), fixed
costs carry over pro rata, and peak throughput is the line's value on the
next month's last day. It says nothing about step changes; the page says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..catalogue.vitals import MONTH_SECONDS
from .period import Month

#: Fewer covered days than this and a line says more about noise than growth.
MIN_DAYS = 7
METHOD = "least-squares line over the month's daily figures, extended over the next month"


@dataclass(frozen=True)
class Line:
    """``intercept + slope * day``, day 0 the month's first day; fitted on ``days`` days."""

    intercept: float
    slope: float
    days: int

    def at(self, day: float) -> float:
        return self.intercept + self.slope * day


def fit(daily: list[float | None]) -> Line | None:
    """The least-squares line through the days that have a value; None below MIN_DAYS of them."""
    points = [(day, value) for day, value in enumerate(daily) if value is not None]
    if len(points) < MIN_DAYS:
        return None
    x = np.array([p[0] for p in points], dtype=float)
    y = np.array([p[1] for p in points], dtype=float)
    slope, intercept = np.polyfit(x, y, 1)
    return Line(float(intercept), float(slope), len(points))


@dataclass(frozen=True)
class Forecast:
    next_month: Month
    cost_inference_usd: float | None
    cost_fixed_usd: float | None
    throughput_peak_rps: float | None
    days_fitted: int

    @property
    def cost_total_usd(self) -> float | None:
        parts = [p for p in (self.cost_inference_usd, self.cost_fixed_usd) if p is not None]
        return sum(parts) if parts else None

    def as_json(self) -> dict[str, object]:
        return {"label": "forecast", "method": METHOD, "next_month": str(self.next_month),
                "days_fitted": self.days_fitted, "cost_total_usd": self.cost_total_usd,
                "cost_inference_usd": self.cost_inference_usd, "cost_fixed_usd": self.cost_fixed_usd,
                "throughput_peak_rps": self.throughput_peak_rps}


def forecast(month: Month, daily_cost: list[float | None], daily_peak: list[float | None],
             fixed_monthly_usd: float | None) -> Forecast | None:
    """Next month at this month's growth; None when neither line can be fitted."""
    cost_line, peak_line = fit(daily_cost), fit(daily_peak)
    if cost_line is None and peak_line is None:
        return None
    following = month.next()
    first, last = month.days, month.days + following.days - 1
    inference = None
    if cost_line is not None:
        inference = max(sum(cost_line.at(day) for day in range(first, last + 1)), 0.0)
    peak = max(peak_line.at(last), 0.0) if peak_line is not None else None
    # fixed_monthly_usd is this month's pro-rata figure: back to a monthly rate, then next month's share
    fixed = None
    if fixed_monthly_usd is not None:
        fixed = fixed_monthly_usd / month.seconds * MONTH_SECONDS * following.seconds / MONTH_SECONDS
    days = max(line.days for line in (cost_line, peak_line) if line is not None)
    return Forecast(following, inference, fixed, peak, days)
