"""Multi-window multi-burn-rate alerts, sloth-style: factors derived from the budget table."""

from __future__ import annotations

from ...catalogue import BURN_WINDOWS, BurnWindow, Severity, Slo
from ...catalogue.promql import render, seconds


def burn_factor(window: BurnWindow, period: str) -> float:
    """Burn rate that spends ``budget_consumed`` of the period's budget in the long window.

    budget share / window share: 2% of a 30d budget in 1h -> 0.02 / (1h / 30d) = 14.4.
    """
    return round(window.budget_consumed * seconds(period) / seconds(window.long), 6)


def error_budget(slo: Slo) -> float:
    """The share of events allowed to be bad (1 - objective)."""
    return round(1.0 - slo.objective, 10)


def burn_expr(slo: Slo, severity: Severity) -> str:
    """Fires while both windows of any pair of this severity burn faster than its factor.

    The value is the long window's burn rate (1 = spending the budget exactly over the period).
    """
    budget = f"{error_budget(slo):.10g}"
    parts = []
    for window in BURN_WINDOWS:
        if window.severity is not severity:
            continue
        factor = f"{burn_factor(window, slo.period):.10g}"
        long_, short = render(slo.errors, window.long), render(slo.errors, window.short)
        parts.append(f"({long_} / {budget} > {factor} and {short} / {budget} > {factor})")
    return "\n or\n".join(parts)
