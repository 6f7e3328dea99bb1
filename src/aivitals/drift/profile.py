"""Reference profiles: the training-time distribution of every feature, as drift bins.

A numeric feature gets upper bin edges at its reference quantiles
(:func:`aivitals.stats.quantile_edges`: deduplicated, a constant feature gets
one); a categorical one its ``top_k`` most frequent categories plus a last
``other`` bin. Each bin stores its share of the reference. The model's output
column, when named, is profiled as the feature ``__prediction__``.

The JSON form carries ``format`` and ``version``; :func:`load_profile`
validates everything and names the first problem it finds.

    aivitals reference build DATA --out profile.json [--bins N] [--top-k K] [--prediction-column C]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

from aivitals.catalogue import LABELS
from aivitals.catalogue.values import PREDICTION
from aivitals.stats import bin_counts, quantile_edges

from .data import Column, DataError, category_column, numeric_column, read_columns

FORMAT = "aivitals-reference-profile"
VERSION = 1
NUMERIC, CATEGORICAL = "numeric", "categorical"
#: Bins per feature are label values (``le``, ``feature_bin``); the catalogue caps them.
MAX_BINS = LABELS["feature_bin"].max_values
MAX_FEATURES = LABELS["feature"].max_values
_SHARE_TOLERANCE = 1e-6


class ProfileError(ValueError):
    """A profile cannot be built or loaded; the message names the feature and the problem."""


@dataclass(frozen=True)
class FeatureProfile:
    """One feature's reference distribution over its drift bins.

    ``edges`` (numeric) are the finite upper edges; the last bin is above them
    all. ``categories`` (categorical) are the top-k; the last bin is every
    other value. ``reference`` holds each bin's share of the reference data.
    """

    name: str
    kind: str
    reference: tuple[float, ...]
    count: int
    edges: tuple[float, ...] = ()
    categories: tuple[str, ...] = ()
    missing: int = 0

    @property
    def bins(self) -> int:
        return len(self.reference)


@dataclass(frozen=True)
class Profile:
    features: tuple[FeatureProfile, ...]
    version: int = VERSION

    @property
    def inputs(self) -> tuple[FeatureProfile, ...]:
        """The model's input features, in profile order (the prediction excluded)."""
        return tuple(f for f in self.features if f.name != PREDICTION)

    @property
    def prediction(self) -> FeatureProfile | None:
        return next((f for f in self.features if f.name == PREDICTION), None)

    def feature(self, name: str) -> FeatureProfile:
        for f in self.features:
            if f.name == name:
                return f
        raise KeyError(name)


def profile_feature(name: str, values: Sequence[object], bins: int = 10, top_k: int = 20) -> FeatureProfile:
    """Profile one column: numeric if every non-missing value is a number, else categorical."""
    missing = sum(1 for v in values if v is None)
    numbers = numeric_column(name, values)
    if numbers is not None:
        if not numbers:
            raise ProfileError(f"feature {name!r}: no values to profile")
        data = np.asarray(numbers, dtype=np.float64)
        edges = quantile_edges(data, bins)
        shares = bin_counts(data, edges) / data.size
        return FeatureProfile(name, NUMERIC, tuple(shares.tolist()), int(data.size), tuple(edges.tolist()),
                              missing=missing)
    cats = category_column(values)
    counter = Counter(cats)
    top = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:top_k]
    kept = sum(n for _, n in top)
    shares_list = [n / len(cats) for _, n in top] + [(len(cats) - kept) / len(cats)]
    return FeatureProfile(name, CATEGORICAL, tuple(shares_list), len(cats),
                          categories=tuple(c for c, _ in top), missing=missing)


def build_profile(columns: Mapping[str, Column], bins: int = 10, top_k: int = 20,
                  prediction_column: str | None = None) -> Profile:
    """Profile every column; ``prediction_column`` becomes ``__prediction__`` (listed last)."""
    if not isinstance(bins, int) or not 2 <= bins <= MAX_BINS:
        raise ProfileError(f"bins must be an integer from 2 to {MAX_BINS}, got {bins!r}")
    if not isinstance(top_k, int) or not 1 <= top_k <= MAX_BINS - 1:
        raise ProfileError(f"top-k must be an integer from 1 to {MAX_BINS - 1}, got {top_k!r}")
    if prediction_column is not None and prediction_column not in columns:
        raise ProfileError(f"prediction column {prediction_column!r} is not in the data ({len(columns)} columns)")
    if PREDICTION in columns and prediction_column != PREDICTION:
        raise ProfileError(f"{PREDICTION!r} is reserved for the prediction: rename that column")
    inputs = [name for name in columns if name != prediction_column]
    if len(inputs) > MAX_FEATURES:
        raise ProfileError(f"{len(inputs)} features is over the cap of {MAX_FEATURES}")
    features = [profile_feature(name, columns[name], bins, top_k) for name in inputs]
    if prediction_column is not None:
        features.append(profile_feature(PREDICTION, columns[prediction_column], bins, top_k))
    if not features:
        raise ProfileError("the data has no columns to profile")
    return Profile(tuple(features))


def profile_to_dict(profile: Profile) -> dict[str, Any]:
    features = []
    for f in profile.features:
        entry: dict[str, Any] = {"name": f.name, "kind": f.kind, "count": f.count, "missing": f.missing,
                                 "reference": list(f.reference)}
        if f.kind == NUMERIC:
            entry["edges"] = list(f.edges)
        else:
            entry["categories"] = list(f.categories)
        features.append(entry)
    return {"format": FORMAT, "version": profile.version, "features": features}


def save_profile(profile: Profile, path: str | Path) -> None:
    """Write deterministic JSON (sorted keys, indent 2); floats round-trip exactly."""
    Path(path).write_text(json.dumps(profile_to_dict(profile), indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _number(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ProfileError(f"{where}: {value!r} is not a finite number")
    return float(value)


def _count(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ProfileError(f"{where}: must be a non-negative integer, got {value!r}")
    return value


def _feature_from_dict(entry: object, index: int) -> FeatureProfile:
    if not isinstance(entry, dict):
        raise ProfileError(f"features[{index}] must be an object")
    name = entry.get("name")
    if not isinstance(name, str) or not name:
        raise ProfileError(f"features[{index}]: 'name' must be a non-empty string")
    where = f"feature {name!r}"
    kind = entry.get("kind")
    reference = entry.get("reference")
    if not isinstance(reference, list) or not reference:
        raise ProfileError(f"{where}: 'reference' must be a non-empty list of shares")
    shares = tuple(_number(v, f"{where} reference") for v in reference)
    if any(s < 0 or s > 1 for s in shares):
        raise ProfileError(f"{where}: reference shares must lie in [0, 1]")
    if abs(sum(shares) - 1.0) > _SHARE_TOLERANCE:
        raise ProfileError(f"{where}: reference shares sum to {sum(shares)!r}, not 1")
    if len(shares) > MAX_BINS:
        raise ProfileError(f"{where}: {len(shares)} bins is over the cap of {MAX_BINS}")
    count = _count(entry.get("count"), f"{where} count")
    missing = _count(entry.get("missing", 0), f"{where} missing")
    if kind == NUMERIC:
        raw = entry.get("edges")
        if not isinstance(raw, list) or not raw:
            raise ProfileError(f"{where}: a numeric feature needs a non-empty 'edges' list")
        edges = tuple(_number(v, f"{where} edges") for v in raw)
        for lower, upper in pairwise(edges):
            if upper <= lower:
                problem = "duplicate edge" if upper == lower else "edges out of order at"
                raise ProfileError(f"{where}: {problem} {upper!r}; edges must be strictly increasing")
        if len(shares) != len(edges) + 1:
            raise ProfileError(f"{where}: {len(shares)} reference shares for {len(edges)} edges; "
                               f"expected {len(edges) + 1} (one per edge plus the bin above them)")
        return FeatureProfile(name, NUMERIC, shares, count, edges=edges, missing=missing)
    if kind == CATEGORICAL:
        raw = entry.get("categories")
        if not isinstance(raw, list) or not all(isinstance(c, str) for c in raw):
            raise ProfileError(f"{where}: a categorical feature needs a 'categories' list of strings")
        if len(set(raw)) != len(raw):
            raise ProfileError(f"{where}: duplicate categories")
        if len(shares) != len(raw) + 1:
            raise ProfileError(f"{where}: {len(shares)} reference shares for {len(raw)} categories; "
                               f"expected {len(raw) + 1} (one per category plus 'other')")
        return FeatureProfile(name, CATEGORICAL, shares, count, categories=tuple(raw), missing=missing)
    raise ProfileError(f"{where}: unknown kind {kind!r}; expected {NUMERIC!r} or {CATEGORICAL!r}")


def profile_from_dict(document: object) -> Profile:
    """Validate a decoded profile document; raises :class:`ProfileError` naming the problem."""
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ProfileError(f"not a reference profile: expected \"format\": \"{FORMAT}\"")
    version = document.get("version")
    if version != VERSION:
        raise ProfileError(f"unknown profile version {version!r}; this aivitals reads version {VERSION}")
    raw = document.get("features")
    if not isinstance(raw, list) or not raw:
        raise ProfileError("'features' must be a non-empty list")
    features = tuple(_feature_from_dict(entry, i) for i, entry in enumerate(raw))
    names = [f.name for f in features]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ProfileError(f"duplicate feature names: {duplicates}")
    if len(features) > MAX_FEATURES + 1:
        raise ProfileError(f"{len(features)} features is over the cap of {MAX_FEATURES}")
    return Profile(features, version)


def load_profile(path: str | Path) -> Profile:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ProfileError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProfileError(f"{path}: not JSON: {exc}") from None
    return profile_from_dict(document)


def main(argv: list[str] | None = None) -> int:
    """``aivitals reference build DATA --out profile.json``: 0 on success, 2 on bad input."""
    parser = argparse.ArgumentParser(prog="aivitals reference", description="Reference profiles for drift.")
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser(
        "build", help="Profile a CSV or Parquet file of reference (training) data.",
        description="Profile a CSV or Parquet file of reference (training) data: quantile bins per numeric "
                    "feature and the top categories per categorical one, written as JSON for `aivitals drift` "
                    "and the DriftRecorder. Exit 0 on success, 2 on bad input.")
    build.add_argument("data", help="CSV (header row) or Parquet file")
    build.add_argument("--out", required=True, help="where to write the profile JSON")
    build.add_argument("--bins", type=int, default=10, help="quantile bins per numeric feature (default 10)")
    build.add_argument("--top-k", type=int, default=20, help="categories kept per categorical feature (default 20)")
    build.add_argument("--prediction-column", help="the model output column, profiled as __prediction__")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad usage, 0 on --help
        return int(exc.code or 0)
    try:
        profile = build_profile(read_columns(args.data), args.bins, args.top_k, args.prediction_column)
        save_profile(profile, args.out)
    except (DataError, ProfileError, ValueError) as exc:
        print(f"aivitals reference build: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"aivitals reference build: cannot write {args.out}: {exc.strerror}", file=sys.stderr)
        return 2
    print(f"profiled {len(profile.features)} features -> {args.out}")
    return 0
