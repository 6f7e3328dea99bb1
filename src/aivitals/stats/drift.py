"""Two-sample drift statistics on raw values: PSI, KS, Jensen-Shannon, Wasserstein, chi-square.

Each matches its scipy counterpart (checked in ``tests/test_stats_drift.py``);
PSI has none, so its formula is spelled out below and checked against an
independent implementation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..catalogue.values import PSI_EPSILON
from . import _special
from ._checks import FloatArray, StatsError, counts, vector
from .binning import bin_counts, quantile_edges

# PSI_EPSILON floors a bin's share in PSI. An empty bin makes ln(p/q) infinite; the
# share is raised to it first (``max(share, PSI_EPSILON)``). The drift PromQL in
# ``aivitals.catalogue.drift`` uses the same constant via clamp_min.

#: Above this sample size ks_2samp switches from the exact p-value to the
#: asymptotic one, as scipy's method='auto' does.
KS_EXACT_MAX_N = 10_000


def psi_from_proportions(reference: Any, current: Any, eps: float = PSI_EPSILON) -> float:
    """Population stability index of two bin-share vectors.

    ``PSI = sum_i (c_i - r_i) * ln(c_i / r_i)`` with each share floored at
    ``eps`` first. Shares are used as given (not renormalised), which is what
    the PromQL rule can do too.
    """
    ref = counts(reference, "reference proportions")
    cur = counts(current, "current proportions")
    if ref.size != cur.size:
        raise StatsError(f"reference has {ref.size} bins, current {cur.size}")
    if not eps > 0:
        raise StatsError(f"eps must be positive, got {eps}")
    r = np.maximum(ref, eps)
    c = np.maximum(cur, eps)
    return float(np.sum((c - r) * np.log(c / r)))


def psi(reference: Any, current: Any, bins: int = 10, eps: float = PSI_EPSILON) -> float:
    """PSI of two samples, binned at the reference's quantiles (see :mod:`.binning`)."""
    ref = vector(reference, "reference")
    cur = vector(current, "current")
    edges = quantile_edges(ref, bins)
    return psi_from_proportions(bin_counts(ref, edges) / ref.size, bin_counts(cur, edges) / cur.size, eps)


@dataclass(frozen=True)
class KsResult:
    """Two-sided two-sample Kolmogorov-Smirnov result; ``method`` is "exact" or "asymptotic"."""

    statistic: float
    pvalue: float
    method: str


def ks_2samp(sample1: Any, sample2: Any) -> KsResult:
    """Two-sided two-sample KS test, after ``scipy.stats.ks_2samp(method='auto')``.

    The statistic is the largest gap between the two empirical CDFs (ties
    handled as scipy does). The p-value is exact when both samples have at
    most ``KS_EXACT_MAX_N`` values (lattice-path count, as scipy; equal to
    scipy's to ~1e-12). Beyond that it is asymptotic: the limiting Kolmogorov
    distribution with Stephens' finite-sample correction,
    ``kstwobign.sf((sqrt(en) + 0.12 + 0.11/sqrt(en)) * D)`` with
    ``en = n*m/(n+m)``. scipy there uses the finite-n ``kstwo.sf(D, round(en))``;
    the two agree to about 2% relative for p-values above 1e-4 (the plain
    limiting form is off by up to 20% for small ``en``).
    Like scipy's, the exact p-value assumes continuous data (no ties).
    """
    a = np.sort(vector(sample1, "sample1"))
    b = np.sort(vector(sample2, "sample2"))
    n1, n2 = a.size, b.size
    both = np.concatenate([a, b])
    gaps = np.searchsorted(a, both, side="right") / n1 - np.searchsorted(b, both, side="right") / n2
    d = float(max(np.max(gaps), min(max(-np.min(gaps), 0.0), 1.0)))
    if max(n1, n2) <= KS_EXACT_MAX_N:
        g = math.gcd(n1, n2)
        lcm = (n1 // g) * n2
        h = int(np.round(d * lcm))
        d = h / lcm
        p = 1.0 if h == 0 else _ks_exact_sf(n1, n2, h)
        return KsResult(d, float(min(max(p, 0.0), 1.0)), "exact")
    root = math.sqrt(n1 * n2 / (n1 + n2))
    return KsResult(d, _special.kolmogorov_sf((root + 0.12 + 0.11 / root) * d), "asymptotic")


def _ks_exact_sf(m: int, n: int, h: int) -> float:
    """P(D >= h / lcm(m, n)): the share of lattice paths from (0,0) to (m,n) that touch the boundary.

    A path point (x, y) is on or beyond the boundary when
    ``|x*n/g - y*m/g| >= h``. ``O(x, y)``, the probability that a uniformly
    random path to (x, y) has touched it, obeys
    ``O(x, y) = (x*O(x-1, y) + y*O(x, y-1)) / (x + y)`` and is 1 beyond the
    boundary. It is swept one anti-diagonal at a time, only inside the band.
    """
    g = math.gcd(m, n)
    a, b = n // g, m // g  # weights of an x step and a y step
    prob = np.ones(m + 2)  # prob[x + 1] holds O(x, k - x) on the current diagonal
    prob[1] = 0.0  # the origin is inside the band (h > 0)
    band_lo, band_hi = 0, 0
    for k in range(1, m + n + 1):
        lo = max(max(0, k - n), (k * b - h) // (a + b) + 1)
        hi = min(min(k, m), -((-(k * b + h)) // (a + b)) - 1)
        if hi < lo:
            return 1.0  # every path of this length is beyond the boundary
        x = np.arange(lo, hi + 1, dtype=np.float64)
        new = (x * prob[lo : hi + 1] + (k - x) * prob[lo + 1 : hi + 2]) / k
        prob[band_lo + 1 : band_hi + 2] = 1.0
        prob[lo + 1 : hi + 2] = new
        band_lo, band_hi = lo, hi
    return float(prob[m + 1])


def js_distance(p: Any, q: Any, base: float | None = 2.0) -> float:
    """Jensen-Shannon distance (the square root of the divergence), as ``scipy.spatial.distance.jensenshannon``.

    Base 2 by default, so the result lies in [0, 1]; ``base=None`` is the
    natural log (scipy's default). Inputs are normalised to sum to 1.
    Unlike scipy, a rounding-level negative divergence is clamped to 0 rather
    than giving NaN.
    """
    pp = counts(p, "p")
    qq = counts(q, "q")
    if pp.size != qq.size:
        raise StatsError(f"p has {pp.size} entries, q {qq.size}")
    if pp.sum() <= 0 or qq.sum() <= 0:
        raise StatsError("p and q must each have a positive sum")
    pp = pp / pp.sum()
    qq = qq / qq.sum()
    return _js(pp, qq, base)


def _js(p: FloatArray, q: FloatArray, base: float | None) -> float:
    m = (p + q) / 2.0
    div = _rel_entr_sum(p, m) + _rel_entr_sum(q, m)
    if base is not None:
        if not base > 0 or base == 1:
            raise StatsError(f"base must be positive and not 1, got {base}")
        div /= math.log(base)
    return math.sqrt(max(div / 2.0, 0.0))


def _rel_entr_sum(p: FloatArray, m: FloatArray) -> float:
    """sum p * ln(p / m) over p > 0 (0 * ln 0 = 0)."""
    mask = p > 0
    return float(np.sum(p[mask] * np.log(p[mask] / m[mask])))


def wasserstein_distance(u: Any, v: Any) -> float:
    """Earth mover's distance between two samples, as ``scipy.stats.wasserstein_distance``: the area between CDFs."""
    a = np.sort(vector(u, "u"))
    b = np.sort(vector(v, "v"))
    both = np.sort(np.concatenate([a, b]), kind="mergesort")
    deltas = np.diff(both)
    cdf_a = np.searchsorted(a, both[:-1], side="right") / a.size
    cdf_b = np.searchsorted(b, both[:-1], side="right") / b.size
    return float(np.sum(np.abs(cdf_a - cdf_b) * deltas))


@dataclass(frozen=True)
class ChiSquareResult:
    statistic: float
    pvalue: float
    dof: int


def chisquare(observed: Any, expected: Any | None = None, ddof: int = 0) -> ChiSquareResult:
    """Pearson's goodness-of-fit test, as ``scipy.stats.chisquare``.

    ``expected`` defaults to uniform. Like scipy, the two must have the same
    total (relative tolerance 1e-8); every expected count must be positive.
    """
    obs = counts(observed, "observed")
    if obs.size < 2:
        raise StatsError("a chi-square test needs at least two categories")
    exp = np.full(obs.size, obs.mean()) if expected is None else counts(expected, "expected")
    if exp.size != obs.size:
        raise StatsError(f"observed has {obs.size} categories, expected {exp.size}")
    if np.any(exp <= 0):
        raise StatsError("every expected count must be positive")
    if not math.isclose(obs.sum(), exp.sum(), rel_tol=1e-8):
        raise StatsError(f"observed sums to {obs.sum()} but expected to {exp.sum()}; they must agree")
    dof = obs.size - 1 - ddof
    if dof <= 0:
        raise StatsError(f"no degrees of freedom left (categories={obs.size}, ddof={ddof})")
    stat = float(np.sum((obs - exp) ** 2 / exp))
    return ChiSquareResult(stat, _special.chi2_sf(stat, dof), dof)


def chi2_contingency(table: Any, correction: bool = True) -> ChiSquareResult:
    """Chi-square test of independence, as ``scipy.stats.chi2_contingency`` (statistic, p-value, dof).

    For drift, the table is two rows (reference counts, current counts) over
    the categories. With one degree of freedom and ``correction`` (the
    default, as scipy), Yates' continuity correction is applied. A table with
    no degree of freedom gives statistic 0 and p-value 1, as scipy.
    """
    try:
        obs = np.asarray(table, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise StatsError(f"table must be a 2-D array of counts: {exc}") from None
    if obs.ndim != 2 or obs.size == 0:
        raise StatsError(f"table must be a non-empty 2-D array, got shape {obs.shape}")
    if not np.all(np.isfinite(obs)) or np.any(obs < 0):
        raise StatsError("table must hold finite, non-negative counts")
    total = obs.sum()
    expected = np.outer(obs.sum(axis=1), obs.sum(axis=0)) / total if total > 0 else np.zeros_like(obs)
    if np.any(expected == 0):
        zero = "row" if np.any(obs.sum(axis=1) == 0) else "column"
        raise StatsError(f"a {zero} of the table sums to zero: drop empty categories first")
    dof = (obs.shape[0] - 1) * (obs.shape[1] - 1)
    if dof == 0:
        return ChiSquareResult(0.0, 1.0, 0)
    if dof == 1 and correction:
        diff = expected - obs
        obs = obs + np.minimum(0.5, np.abs(diff)) * np.sign(diff)
    stat = float(np.sum((obs - expected) ** 2 / expected))
    return ChiSquareResult(stat, _special.chi2_sf(stat, dof), dof)
