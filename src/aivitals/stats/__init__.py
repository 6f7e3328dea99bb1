"""Statistics behind the vitals: drift, calibration, label-based quality and business deltas.

numpy only at run time (scipy and scikit-learn are what the tests check
against). Import this package explicitly; ``aivitals`` itself never imports
numpy. Every function raises :class:`StatsError` (a ``ValueError``) on input
it cannot score honestly rather than return a misleading number.
"""

from __future__ import annotations

from ._checks import StatsError
from .binning import bin_counts, quantile_edges
from .business import NpsResult, ProportionDelta, nps, nps_from_scores, two_proportion_ztest
from .calibration import ReliabilityBins, brier_score, expected_calibration_error, reliability_bins
from .classification import (
    LOG_LOSS_EPS,
    FairnessGap,
    accuracy,
    average_precision,
    f1,
    fairness_gap,
    log_loss,
    precision,
    recall,
    roc_auc,
)
from .drift import (
    PSI_EPSILON,
    ChiSquareResult,
    KsResult,
    chi2_contingency,
    chisquare,
    js_distance,
    ks_2samp,
    psi,
    psi_from_proportions,
    wasserstein_distance,
)
from .histogram import (
    cumulative_shares,
    histogram_quantile,
    js_from_counts,
    ks_from_counts,
    ks_from_cumulative,
    psi_from_counts,
)
from .regression import mae, mse

__all__ = [
    "LOG_LOSS_EPS",
    "PSI_EPSILON",
    "ChiSquareResult",
    "FairnessGap",
    "KsResult",
    "NpsResult",
    "ProportionDelta",
    "ReliabilityBins",
    "StatsError",
    "accuracy",
    "average_precision",
    "bin_counts",
    "brier_score",
    "chi2_contingency",
    "chisquare",
    "cumulative_shares",
    "expected_calibration_error",
    "f1",
    "fairness_gap",
    "histogram_quantile",
    "js_distance",
    "js_from_counts",
    "ks_2samp",
    "ks_from_counts",
    "ks_from_cumulative",
    "log_loss",
    "mae",
    "mse",
    "nps",
    "nps_from_scores",
    "precision",
    "psi",
    "psi_from_counts",
    "psi_from_proportions",
    "quantile_edges",
    "recall",
    "reliability_bins",
    "roc_auc",
    "two_proportion_ztest",
    "wasserstein_distance",
]
