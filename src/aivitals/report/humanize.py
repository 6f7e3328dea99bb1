"""Numbers written for people: currency, percentages, durations, counts, and month-over-month changes."""

from __future__ import annotations

from ..catalogue import Format

ABSENT = "–"
_UNITS = ((86400.0, "days"), (3600.0, "h"), (60.0, "min"), (1.0, "s"))


def money(value: float) -> str:
    sign = "-" if value < 0 else ""
    v = abs(value)
    if v >= 1e6:
        return f"{sign}${v / 1e6:,.2f}M"
    if v >= 100:
        return f"{sign}${v:,.0f}"
    if v >= 1:
        return f"{sign}${v:,.2f}"
    if v == 0:
        return "$0"
    return f"{sign}${v:.4f}" if v >= 0.0001 else f"{sign}${v:.2e}"


def count(value: float) -> str:
    v = abs(value)
    if v >= 1e9:
        return f"{value / 1e9:.2f} billion"
    if v >= 1e6:
        return f"{value / 1e6:.2f} million"
    return f"{value:,.0f}"


def duration(seconds: float) -> str:
    v = abs(seconds)
    if v < 1:
        return f"{seconds * 1000:.0f} ms"
    for size, unit in _UNITS:
        if v >= size * (2 if unit == "days" else 1):
            return f"{seconds / size:.1f} {unit}" if seconds / size < 100 else f"{seconds / size:,.0f} {unit}"
    return f"{seconds:.1f} s"


def number(value: float) -> str:
    return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def write(value: float | None, form: Format) -> str:
    """One figure as a person reads it; an absent figure is a dash, never 0."""
    if value is None:
        return ABSENT
    if form is Format.USD:
        return money(value)
    if form is Format.RATIO:
        return f"{value * 100:.1f}%" if abs(value) >= 0.001 or value == 0 else f"{value * 100:.3f}%"
    if form is Format.SECONDS:
        return duration(value)
    if form is Format.COUNT:
        return count(value)
    if form is Format.PER_SECOND:
        return f"{number(value)}/s"
    if form is Format.POINTS:
        return f"{value * 100:+.0f}"
    return number(value)


def change(value: float | None, previous: float | None, form: Format) -> str:
    """Month over month: percentage points for shares, else the relative change and the absolute one."""
    if value is None or previous is None:
        return ABSENT
    delta = value - previous
    if form is Format.RATIO:
        return f"{delta * 100:+.1f} pts"
    if form is Format.POINTS:
        return f"{delta * 100:+.0f}"
    if previous == 0:
        return "new" if delta else "no change"
    relative = delta / abs(previous)
    return f"{relative * 100:+.1f}%"


def relative_change(value: float | None, previous: float | None, form: Format) -> float | None:
    """How much a figure moved, as a share of where it was (shares and scores: in absolute points)."""
    if value is None or previous is None:
        return None
    if form in (Format.RATIO, Format.POINTS):
        return value - previous
    if previous == 0:
        return None if value == 0 else float("inf")
    return (value - previous) / abs(previous)
