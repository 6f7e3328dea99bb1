"""How much of a month the store holds: a review never draws a partial month as if complete.

Prometheus keeps 15 days by default, so the month before is often gone. The
store is asked, every 5 minutes, whether it holds any aivitals sample; a month
is complete when every one of its days has some. An empty month is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..catalogue.figures import COVERAGE_QUERY
from ..catalogue.promql import render
from .errors import ReportError
from .period import DAY_SECONDS, Month
from .query import Prometheus

HOUR = 3600
#: Prometheus' default lookback: an instant sees a series scraped at most this long before it.
PROBE = 300
RETENTION_FIX = "keep 62 days (--storage.tsdb.retention.time=62d) or a long-term store; see docs/report.md"


@dataclass(frozen=True)
class Coverage:
    """Which of a month's days and hours the store holds samples for."""

    days: int
    covered_days: int
    covered_hours: int
    #: Day numbers (1-based) with no sample at all.
    missing_days: tuple[int, ...]

    @property
    def complete(self) -> bool:
        return self.covered_days == self.days

    @property
    def empty(self) -> bool:
        return self.covered_days == 0

    def describe(self) -> str:
        if self.complete:
            return f"all {self.days} days"
        return f"{self.covered_days} of {self.days} days (no data on days {_ranges(self.missing_days)})"

    def as_json(self) -> dict[str, object]:
        return {"days": self.days, "covered_days": self.covered_days, "covered_hours": self.covered_hours,
                "complete": self.complete, "missing_days": list(self.missing_days)}


def measure(prometheus: Prometheus, month: Month, sel: str) -> Coverage:
    """Ask the store which hours of ``month`` hold any aivitals series matching ``sel``."""
    # each probe looks back 5 minutes from a second before its slot ends: a sample on the hour counts once
    points = prometheus.range(render(COVERAGE_QUERY, None, sel), month.start + PROBE - 1, month.end - 1, PROBE)
    hours = {int((p.time + 1 - PROBE - month.start) // HOUR) for p in points if p.value}
    days = {h * HOUR // DAY_SECONDS + 1 for h in hours}
    missing = tuple(d for d in range(1, month.days + 1) if d not in days)
    return Coverage(month.days, month.days - len(missing), len(hours), missing)


def require_data(coverage: Coverage, month: Month, service: str | None) -> None:
    if coverage.empty:
        scope = f" for service {service!r}" if service else ""
        raise ReportError(f"Prometheus holds no aivitals series in {month}{scope}",
                          "check --month and --service, that Prometheus scrapes the app and the sidecar, and its "
                          "retention: " + RETENTION_FIX)


def require_complete(coverage: Coverage, month: Month) -> None:
    if not coverage.complete:
        raise ReportError(f"Prometheus covers only {coverage.describe()} of {month}",
                          "drop --require-complete to report the covered days, or " + RETENTION_FIX)


def _ranges(days: tuple[int, ...]) -> str:
    """(1, 2, 3, 7) -> '1-3, 7'."""
    parts: list[str] = []
    start = prev = None
    for day in (*days, None):
        if day is not None and prev is not None and day == prev + 1:
            prev = day
            continue
        if start is not None:
            parts.append(str(start) if start == prev else f"{start}-{prev}")
        start = prev = day
    return ", ".join(parts)
