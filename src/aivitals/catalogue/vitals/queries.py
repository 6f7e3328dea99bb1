"""The pieces the vitals' queries are built from: label sets, ratios, quantiles, means.

Queries use three tokens: ``SEL`` inside a selector's braces is replaced by
the dashboard's label filters (``{SEL}`` or ``{SEL, extra="x"}``; empty in
recording rules), ``WINDOW`` by a range such as ``5m`` and ``WINDOW_SECONDS``
by that range in seconds.

Every aggregation keeps ``namespace`` (added by Prometheus's service
discovery) so that the namespace filter works on recorded series too; level
names leave it out, as kubernetes-mixin leaves out ``cluster``.
"""

from __future__ import annotations

from ..drift import FEATURE_PSI

__all__ = [
    "FEATURE_PSI",
    "MONTH_SECONDS",
    "PROBE",
    "SM",
    "SMM",
    "M",
    "mean",
    "quantile",
    "rate_ratio",
    "score_mean",
    "verdict_share",
    "z95",
    "z_bonferroni",
]

SM = "namespace, service, model"
M = "namespace, model"
#: A probe suite's results compare only within one suite version, for one model.
PROBE = "namespace, suite, suite_version, model"

#: Seconds in an average month (365.2425 / 12 days): fixed monthly costs pro rata.
MONTH_SECONDS = 2629746


def rate_ratio(num: str, den: str, by: str) -> str:
    """num/den by ``by``; a missing numerator counts as 0, so "never refused" reads 0, not no data."""
    total = f"sum by ({by}) (rate({den}[WINDOW]))"
    return f"(sum by ({by}) (rate({num}[WINDOW])) or 0 * {total}) / {total}"


def quantile(q: float, metric: str, by: str) -> str:
    return f"histogram_quantile({q}, sum by (le, {by}) (rate({metric}_bucket{{SEL}}[WINDOW])))"


#: Evaluator scores and verdicts stay apart by ``method`` (lexical, judge, ...), so a panel never mixes them.
SMM = f"{SM}, method"


def score_mean(evaluator: str) -> str:
    sel = f'{{SEL, evaluator="{evaluator}"}}'
    return (f"sum by ({SMM}) (rate(aivitals_quality_score_sum{sel}[WINDOW]))"
            f" / sum by ({SMM}) (rate(aivitals_quality_score_count{sel}[WINDOW]))")


def verdict_share(evaluator: str, verdict: str) -> str:
    return rate_ratio(
        f'aivitals_evaluations_total{{SEL, evaluator="{evaluator}", verdict="{verdict}"}}',
        f'aivitals_evaluations_total{{SEL, evaluator="{evaluator}"}}',
        SMM,
    )


def mean(metric: str, by: str) -> str:
    return (f"sum by ({by}) (increase({metric}_sum{{SEL}}[WINDOW]))"
            f" / sum by ({by}) (increase({metric}_count{{SEL}}[WINDOW]))")


#: One-sided 95% normal quantile (1.645), computed, for "with confidence".
def z95() -> float:
    from statistics import NormalDist

    return round(NormalDist().inv_cdf(0.95), 4)


def z_bonferroni(tests: int = 5, alpha: float = 0.05) -> float:
    """One-sided normal quantile at ``alpha / tests`` (2.3263 for five tests at 5%), as ``aivitals probe`` uses."""
    from statistics import NormalDist

    return round(NormalDist().inv_cdf(1 - alpha / tests), 4)
