"""Business statistics: a KPI delta with its confidence, and NPS with its margin of error."""

from __future__ import annotations

import math
from dataclasses import dataclass

from . import _special
from ._checks import StatsError


@dataclass(frozen=True)
class ProportionDelta:
    """Treatment minus control conversion rate, its z-test and a Wald confidence interval."""

    treatment_rate: float
    control_rate: float
    delta: float
    z: float
    pvalue: float
    ci_low: float
    ci_high: float
    confidence: float


def _rate(count: float, nobs: float, name: str) -> float:
    for value, what in ((count, "count"), (nobs, "nobs")):
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
            raise StatsError(f"{name} {what} must be a finite number, got {value!r}")
    if nobs <= 0:
        raise StatsError(f"{name} has no exposures")
    if not 0 <= count <= nobs:
        raise StatsError(f"{name} conversions ({count}) must lie between 0 and its exposures ({nobs})")
    return count / nobs


def two_proportion_ztest(
    treatment_count: float,
    treatment_nobs: float,
    control_count: float,
    control_nobs: float,
    alternative: str = "two-sided",
    alpha: float = 0.05,
) -> ProportionDelta:
    """Two-proportion z-test of treatment vs control, with statsmodels' formulas.

    The test is ``statsmodels.stats.proportion.proportions_ztest`` (pooled
    variance): ``z = (p_t - p_c) / sqrt(p (1 - p) (1/n_t + 1/n_c))`` with
    ``p`` the pooled rate; ``alternative`` is "two-sided", "larger"
    (treatment better) or "smaller". The interval is
    ``confint_proportions_2indep(method="wald", compare="diff")``: unpooled,
    ``delta +- z_{1-alpha/2} sqrt(p_t (1-p_t)/n_t + p_c (1-p_c)/n_c)``.
    Raises when both rates are 0 or both 1: there is no variance to test.
    """
    if not 0 < alpha < 1:
        raise StatsError(f"alpha must lie in (0, 1), got {alpha}")
    pt = _rate(treatment_count, treatment_nobs, "treatment")
    pc = _rate(control_count, control_nobs, "control")
    pooled = (treatment_count + control_count) / (treatment_nobs + control_nobs)
    se_test = math.sqrt(pooled * (1 - pooled) * (1 / treatment_nobs + 1 / control_nobs))
    if se_test == 0:
        raise StatsError("both cohorts converted at the same 0% or 100% rate: the test has no variance")
    delta = pt - pc
    z = delta / se_test
    if alternative == "two-sided":
        pvalue = 2 * _special.norm_sf(abs(z))
    elif alternative == "larger":
        pvalue = _special.norm_sf(z)
    elif alternative == "smaller":
        pvalue = _special.norm_cdf(z)
    else:
        raise StatsError(f"alternative must be 'two-sided', 'larger' or 'smaller', got {alternative!r}")
    se_ci = math.sqrt(pt * (1 - pt) / treatment_nobs + pc * (1 - pc) / control_nobs)
    half = _special.norm_ppf(1 - alpha / 2) * se_ci
    return ProportionDelta(pt, pc, delta, z, min(pvalue, 1.0), delta - half, delta + half, 1 - alpha)


@dataclass(frozen=True)
class NpsResult:
    """NPS as a share in [-1, 1] (x100 for the usual scale), with its margin of error."""

    score: float
    margin: float
    low: float
    high: float
    responses: int


def nps(promoters: int, passives: int, detractors: int, alpha: float = 0.05) -> NpsResult:
    """Net promoter score and its margin of error from category counts.

    Each answer scores +1 (promoter, 9-10), 0 (passive, 7-8) or -1
    (detractor, 0-6); NPS is their mean. The margin is
    ``z_{1-alpha/2} * sqrt(var / n)`` with ``var = (P + D) - (P - D)^2`` the
    (population) variance of that score, P and D the promoter and detractor
    shares. The interval is clipped to [-1, 1].
    """
    values = (promoters, passives, detractors)
    if any(not isinstance(v, int) or isinstance(v, bool) or v < 0 for v in values):
        raise StatsError(f"counts must be non-negative integers, got {values}")
    if not 0 < alpha < 1:
        raise StatsError(f"alpha must lie in (0, 1), got {alpha}")
    n = promoters + passives + detractors
    if n == 0:
        raise StatsError("NPS needs at least one answer")
    p, d = promoters / n, detractors / n
    score = p - d
    margin = _special.norm_ppf(1 - alpha / 2) * math.sqrt(max(p + d - score * score, 0.0) / n)
    return NpsResult(score, margin, max(score - margin, -1.0), min(score + margin, 1.0), n)


def nps_from_scores(scores: list[int] | tuple[int, ...], alpha: float = 0.05) -> NpsResult:
    """NPS from raw 0..10 survey answers (integers only)."""
    if any(not isinstance(s, int) or isinstance(s, bool) or not 0 <= s <= 10 for s in scores):
        raise StatsError("survey answers must be integers from 0 to 10")
    promoters = sum(1 for s in scores if s >= 9)
    detractors = sum(1 for s in scores if s <= 6)
    return nps(promoters, len(scores) - promoters - detractors, detractors, alpha)
