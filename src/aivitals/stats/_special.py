"""The few special functions the statistics need, in pure Python.

numpy has no normal quantile, chi-square survival function or Kolmogorov
distribution; scipy is a test-only dependency, so these are written out here
and checked against scipy in the tests (to about 1e-12 relative).
"""

from __future__ import annotations

import math

_SQRT2 = math.sqrt(2.0)


def norm_sf(z: float) -> float:
    """P(Z > z) for a standard normal Z (erfc keeps the tail accurate)."""
    return 0.5 * math.erfc(z / _SQRT2)


def norm_cdf(z: float) -> float:
    return 0.5 * math.erfc(-z / _SQRT2)


# Acklam's rational approximation (|rel err| < 1.2e-9), refined by one Halley step.
_A = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02, 1.383577518672690e02,
      -3.066479806614716e01, 2.506628277459239e00)
_B = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02, 6.680131188771972e01,
      -1.328068155288572e01)
_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00, -2.549732539343734e00,
      4.374664141464968e00, 2.938163982698783e00)
_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, 3.754408661907416e00)


def norm_ppf(p: float) -> float:
    """The standard normal quantile: the z with P(Z <= z) = p, for 0 < p < 1."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"a normal quantile needs 0 < p < 1, got {p}")
    low = 0.02425
    if p < low:
        q = math.sqrt(-2 * math.log(p))
        x = (((((_C[0] * q + _C[1]) * q + _C[2]) * q + _C[3]) * q + _C[4]) * q + _C[5]) / (
            (((_D[0] * q + _D[1]) * q + _D[2]) * q + _D[3]) * q + 1)
    elif p > 1 - low:
        q = math.sqrt(-2 * math.log1p(-p))
        x = -(((((_C[0] * q + _C[1]) * q + _C[2]) * q + _C[3]) * q + _C[4]) * q + _C[5]) / (
            (((_D[0] * q + _D[1]) * q + _D[2]) * q + _D[3]) * q + 1)
    else:
        q = p - 0.5
        r = q * q
        x = (((((_A[0] * r + _A[1]) * r + _A[2]) * r + _A[3]) * r + _A[4]) * r + _A[5]) * q / (
            ((((_B[0] * r + _B[1]) * r + _B[2]) * r + _B[3]) * r + _B[4]) * r + 1)
    for _ in range(2):  # Halley steps on the exact CDF
        # cdf(x) - p; for p >= 0.5 from the upper tail, where 1 - p is exact
        error = norm_cdf(x) - p if p < 0.5 else (1.0 - p) - norm_sf(x)
        u = error * math.sqrt(2 * math.pi) * math.exp(x * x / 2)
        x = x - u / (1 + x * u / 2)
    return x


def _gamma_p_series(a: float, x: float) -> float:
    """Regularized lower incomplete gamma P(a, x) by its series (x < a + 1)."""
    term = total = 1.0 / a
    ap = a
    for _ in range(10_000):
        ap += 1
        term *= x / ap
        total += term
        if abs(term) < abs(total) * 1e-17:
            break
    return total * math.exp(-x + a * math.log(x) - math.lgamma(a))


def _gamma_q_fraction(a: float, x: float) -> float:
    """Regularized upper incomplete gamma Q(a, x) by Lentz's continued fraction (x >= a + 1)."""
    tiny = 1e-300
    b = x + 1 - a
    c = 1 / tiny
    d = 1 / b
    h = d
    for i in range(1, 10_000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        delta = d * c
        h *= delta
        if abs(delta - 1) < 1e-16:
            break
    return math.exp(-x + a * math.log(x) - math.lgamma(a)) * h


def chi2_sf(x: float, dof: float) -> float:
    """P(X > x) for a chi-square X with ``dof`` degrees of freedom."""
    if dof <= 0:
        raise ValueError(f"degrees of freedom must be positive, got {dof}")
    if x <= 0:
        return 1.0
    a, half = dof / 2.0, x / 2.0
    if half < a + 1:
        return 1.0 - _gamma_p_series(a, half)
    return _gamma_q_fraction(a, half)


def kolmogorov_sf(lam: float) -> float:
    """P(K > lam) for the limiting Kolmogorov distribution K (scipy's ``kstwobign.sf``)."""
    if lam <= 0:
        return 1.0
    if lam < 1.18:
        # Jacobi theta form: converges fast for small lam.
        s = 0.0
        factor = -(math.pi**2) / (8 * lam * lam)
        for k in range(1, 50):
            term = math.exp(factor * (2 * k - 1) ** 2)
            s += term
            if term < 1e-17 * s:
                break
        return 1.0 - math.sqrt(2 * math.pi) / lam * s
    s = 0.0
    for k in range(1, 100):
        term = math.exp(-2 * k * k * lam * lam)
        s += term if k % 2 else -term
        if term < 1e-17 * abs(s):
            break
    return min(1.0, 2 * s)
