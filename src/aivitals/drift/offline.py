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

from aivitals.stats import bin_counts, chi2_contingency, js_from_counts, ks_from_counts, psi_from_counts

from .data import Column, DataError, category_column, numeric_column
from .profile import CATEGORICAL, FeatureProfile, Profile


@dataclass(frozen=True)
class FeatureDrift:
    """One feature's drift; ``ks`` is None for categorical features (their bins have no order).

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


def compare(profile: Profile, columns: Mapping[str, Column], threshold: float) -> list[FeatureDrift]:
    """Score every profiled feature; a feature drifts when its PSI is over ``threshold``."""
    results = []
    for feature in profile.features:
        if feature.name not in columns:
            raise DataError(f"feature {feature.name!r} is in the reference but not in the current data")
        counts = current_counts(feature, columns[feature.name])
        if counts.sum() == 0:
            raise DataError(f"feature {feature.name!r} has no values in the current data")
        psi = psi_from_counts(feature.reference, counts)
        ks = None if feature.kind == CATEGORICAL else ks_from_counts(feature.reference, counts)
        js = js_from_counts(feature.reference, counts)
        chi2 = _chi2_pvalue(feature, counts) if feature.kind == CATEGORICAL else None
        results.append(FeatureDrift(feature.name, feature.kind, int(counts.sum()), psi, ks, js, psi > threshold,
                                    chi2))
    return results
