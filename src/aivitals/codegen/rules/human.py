"""Values in human units: the alert template for each unit, and the same rendering in Python.

The Python side mirrors Prometheus's template functions (``humanizePercentage``,
``humanizeDuration``, ``printf``) so descriptions can show catalogue defaults in
the same form as live values, and rule tests can predict the annotations.
"""

from __future__ import annotations

import math

from ...catalogue import Unit


def go_g(value: float, digits: int = 4) -> str:
    """Go's ``%.4g`` (the same as C's, which Python's ``%`` follows)."""
    return f"%.{digits}g" % value


def humanize_percentage(value: float) -> str:
    return go_g(value * 100) + "%"


def humanize_duration(value: float) -> str:
    """Prometheus 2.x ``humanizeDuration``."""
    if math.isnan(value) or math.isinf(value):
        return go_g(value)
    if abs(value) >= 1:
        sign = "-" if value < 0 else ""
        v = abs(value)
        whole = int(v)
        secs, mins, hours, days = whole % 60, (whole // 60) % 60, (whole // 3600) % 24, whole // 86400
        if days:
            return f"{sign}{days}d {hours}h {mins}m {secs}s"
        if hours:
            return f"{sign}{hours}h {mins}m {secs}s"
        if mins:
            return f"{sign}{mins}m {secs}s"
        return f"{sign}{go_g(v)}s"
    prefix = ""
    for p in ("m", "u", "n", "p", "f", "a", "z", "y"):
        if abs(value) >= 1:
            break
        prefix = p
        value *= 1000
    return f"{go_g(value)}{prefix}s"


def template(unit: Unit, expr: str = "$value") -> str:
    """The Go template that shows ``expr`` in the unit's human form."""
    if unit is Unit.RATIO:
        return "{{ " + expr + " | humanizePercentage }}"
    if unit is Unit.SECONDS:
        return "{{ " + expr + " | humanizeDuration }}"
    if unit is Unit.USD:
        return '${{ ' + expr + ' | printf "%.4g" }}'
    return '{{ ' + expr + ' | printf "%.4g" }}'


def python(unit: Unit, value: float) -> str:
    """What ``template(unit)`` renders for ``value``."""
    if unit is Unit.RATIO:
        return humanize_percentage(value)
    if unit is Unit.SECONDS:
        return humanize_duration(value)
    if unit is Unit.USD:
        return "$" + go_g(value)
    return go_g(value)
