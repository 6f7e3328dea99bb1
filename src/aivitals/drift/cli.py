"""``aivitals drift REFERENCE CURRENT``: which features drifted, for CI jobs and notebooks.

REFERENCE is a profile JSON (``aivitals reference build``) or a data file
profiled on the fly; CURRENT is a CSV or Parquet file. Exit status: 0 when no
feature drifted, 1 when any did (its PSI is over ``--threshold``), 2 on bad
input.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from aivitals.stats import StatsError

from ..catalogue.drift import DEFAULT_THRESHOLD
from .data import Column, DataError, read_columns
from .offline import FeatureDrift, compare
from .profile import PREDICTION, Profile, ProfileError, build_profile, load_profile


def _reference(path: str, bins: int, top_k: int,
               prediction_column: str | None) -> tuple[Profile, dict[str, Column] | None]:
    """The reference profile, and the raw reference data when REFERENCE is a data file."""
    if Path(path).suffix.lower() == ".json":
        return load_profile(path), None
    columns = read_columns(path)
    profile = build_profile(columns, bins, top_k, prediction_column)
    if prediction_column is not None and prediction_column in columns:
        columns[PREDICTION] = columns.pop(prediction_column)
    return profile, columns


def _table(results: list[FeatureDrift], threshold: float) -> str:
    width = max([len("feature")] + [len(r.feature) for r in results])
    lines = [f"{'feature':<{width}}  {'kind':<11}  {'n':>8}  {'psi':>8}  {'ks':>8}  {'js':>8}  drifted"]
    for r in results:
        ks = "-" if r.ks is None else f"{r.ks:.4f}" + ("*" if r.ks_method == "binned" else "")
        lines.append(f"{r.feature:<{width}}  {r.kind:<11}  {r.count:>8}  {r.psi:>8.4f}  {ks:>8}  {r.js:>8.4f}  "
                     f"{'yes' if r.drifted else 'no'}")
    drifted = sum(r.drifted for r in results)
    lines.append(f"{drifted} of {len(results)} feature(s) drifted (PSI > {threshold:g})")
    if any(r.ks_method == "binned" for r in results):
        lines.append("* KS at the profile's bin edges (the live rules' figure); give raw reference data for the "
                     "exact two-sample KS")
    return "\n".join(lines)


def _json(results: list[FeatureDrift], threshold: float) -> str:
    return json.dumps({"threshold": threshold, "drifted": any(r.drifted for r in results),
                       "features": [r.__dict__ for r in results]}, indent=2, sort_keys=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="aivitals drift",
        description="Compare a data file against a reference: PSI, KS and JS per feature (chi-square for "
                    "categories). Exit 0: no feature drifted; 1: some did; 2: bad input. KS is the exact "
                    "two-sample statistic when REFERENCE is raw data, and the binned one of the live rules when it "
                    "is a profile.")
    parser.add_argument("reference", help="profile JSON, or a CSV/Parquet file of reference data")
    parser.add_argument("current", help="CSV or Parquet file of current data")
    parser.add_argument("--format", choices=("table", "json"), default="table",
                        help="a table for people (default) or one JSON object for scripts")
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD,
                        help=f"PSI over which a feature counts as drifted (default {DEFAULT_THRESHOLD})")
    parser.add_argument("--prediction-column", help="the model output column in the data files")
    parser.add_argument("--bins", type=int, default=10, help="bins when REFERENCE is a data file (default 10)")
    parser.add_argument("--top-k", type=int, default=20, help="categories when REFERENCE is a data file")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad usage, 0 on --help
        return int(exc.code or 0)
    try:
        if not args.threshold >= 0:
            raise DataError(f"--threshold must be non-negative, got {args.threshold}")
        profile, reference = _reference(args.reference, args.bins, args.top_k, args.prediction_column)
        columns = read_columns(args.current)
        if args.prediction_column is not None:
            if args.prediction_column not in columns:
                raise DataError(f"prediction column {args.prediction_column!r} is not in {args.current}")
            columns[PREDICTION] = columns.pop(args.prediction_column)
        elif profile.prediction is not None and PREDICTION not in columns:
            raise DataError("the reference profiles a prediction: name its column with --prediction-column")
        results = compare(profile, columns, args.threshold, reference)
    except (DataError, ProfileError, StatsError) as exc:
        print(f"aivitals drift: {exc}", file=sys.stderr)
        return 2
    print(_json(results, args.threshold) if args.format == "json" else _table(results, args.threshold))
    return 1 if any(r.drifted for r in results) else 0
