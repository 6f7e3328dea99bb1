"""Offline drift: a data file's features against a reference profile, with the live rules' math.

Each feature's current values are counted into the profile's bins and scored
with the same histogram functions the PromQL rules are tested against
(:mod:`aivitals.stats.histogram`), so the offline report and the live
dashboard agree on the same data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from aivitals.stats import bin_counts, chi2_contingency, js_from_counts, ks_2samp, ks_from_counts, psi_from_counts

from .data import Column, DataError, category_column, numeric_column
from .profile import CATEGORICAL, FeatureProfile, Profile


@dataclass(frozen=True)
class FeatureDrift:
    """One feature's drift; ``ks`` is None for categorical features (their bins have no order).

    ``ks_method`` says which KS statistic ``ks`` is: ``exact`` when both sides are
    raw data (the two-sample statistic over every value, with its ``ks_pvalue``,
    as scipy's ``ks_2samp``), ``binned`` when the reference is a profile (the
    largest gap between the two CDFs at the profile's bin edges, what the live
    rules compute; it can only understate the exact one, and has no p-value).
    ``chi2_pvalue`` (categorical features only) is the chi-square test of
    independence of the reference and current category counts: a small value
    says the mix changed beyond sampling noise.
    """

    feature: str
    kind: str
    count: int
    psi: float
    ks: float | None
    js: float
    drifted: bool
    chi2_pvalue: float | None = None
    ks_method: str | None = None
    ks_pvalue: float | None = None


def current_counts(feature: FeatureProfile, column: Column) -> np.ndarray:
    """The column's values counted into the feature's bins (missing values skipped)."""
    if feature.kind == CATEGORICAL:
        index = {c: i for i, c in enumerate(feature.categories)}
        other = len(feature.categories)
        bins = [index.get(value, other) for value in category_column(column)]
        return np.bincount(np.asarray(bins, dtype=np.intp), minlength=feature.bins).astype(np.float64)
    values = numeric_column(feature.name, column)
    if values is None:
        raise DataError(f"feature {feature.name!r} is numeric in the reference, but the current data holds "
                        "values that are not numbers")
    return bin_counts(values, feature.edges)


def _chi2_pvalue(feature: FeatureProfile, counts: np.ndarray) -> float:
    reference = np.round(np.asarray(feature.reference) * feature.count)
    table = np.vstack([reference, counts])
    table = table[:, table.sum(axis=0) > 0]
    return chi2_contingency(table).pvalue


def _ks(feature: FeatureProfile, counts: np.ndarray, column: Column,
        reference: Mapping[str, Column] | None) -> tuple[float, str, float | None]:
    """(statistic, method, p-value) of a numeric feature: exact on raw data, binned on a profile."""
    if reference is not None and feature.name in reference:
        before = numeric_column(feature.name, reference[feature.name])
        after = numeric_column(feature.name, column)
        if before and after:
            result = ks_2samp(before, after)
            return result.statistic, "exact", result.pvalue
    return ks_from_counts(feature.reference, counts), "binned", None


def compare(profile: Profile, columns: Mapping[str, Column], threshold: float,
            reference: Mapping[str, Column] | None = None) -> list[FeatureDrift]:
    """Score every profiled feature; a feature drifts when its PSI is over ``threshold``.

    ``reference`` is the raw data the profile was built from, when there is some:
    numeric features then get the exact two-sample KS statistic.
    """
    results = []
    for feature in profile.features:
        if feature.name not in columns:
            raise DataError(f"feature {feature.name!r} is in the reference but not in the current data")
        counts = current_counts(feature, columns[feature.name])
        if counts.sum() == 0:
            raise DataError(f"feature {feature.name!r} has no values in the current data")
        psi = psi_from_counts(feature.reference, counts)
        js = js_from_counts(feature.reference, counts)
        if feature.kind == CATEGORICAL:
            results.append(FeatureDrift(feature.name, feature.kind, int(counts.sum()), psi, None, js,
                                        psi > threshold, _chi2_pvalue(feature, counts)))
            continue
        ks, method, pvalue = _ks(feature, counts, columns[feature.name], reference)
        results.append(FeatureDrift(feature.name, feature.kind, int(counts.sum()), psi, ks, js, psi > threshold,
                                    None, method, pvalue))
    return results
