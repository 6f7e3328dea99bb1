"""Cost of recording one 50-feature prediction for drift, against 50 prometheus_client Histogram observes.

The baseline is what a naive recorder would do: one Histogram per feature,
bucketed at the same edges, one observe() each. DriftRecorder appends the row
and folds the buffer with numpy; its time here includes every fold and a
final scrape, amortised per record. Last line: one JSON object.
"""

from __future__ import annotations

import json
import time

import numpy as np
from prometheus_client import CollectorRegistry, Histogram

from aivitals.drift import DriftRecorder, build_profile

FEATURES = 50
ROWS = 20_000
REPEATS = 3


def _best(fn: object, repeats: int = REPEATS) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    rng = np.random.default_rng(0)
    names = [f"f{i}" for i in range(FEATURES)]
    profile = build_profile({n: rng.normal(size=5000).tolist() for n in names}, bins=10)
    rows = [tuple(r) for r in rng.normal(0.1, 1.0, size=(ROWS, FEATURES)).tolist()]
    dicts = [dict(zip(names, r, strict=True)) for r in rows]

    registry = CollectorRegistry()
    histograms = [Histogram(f"bench_{n}", "baseline", buckets=profile.feature(n).edges, registry=registry)
                  for n in names]

    def baseline() -> None:
        for row in rows:
            for histogram, value in zip(histograms, row, strict=True):
                histogram.observe(value)

    def recorder_tuples() -> None:
        recorder = DriftRecorder(profile, "bench", registry=None)
        for row in rows:
            recorder.record(row)
        list(recorder.collect())

    def recorder_dicts() -> None:
        recorder = DriftRecorder(profile, "bench", registry=None)
        for row in dicts:
            recorder.record(row)
        list(recorder.collect())

    base_ns = _best(baseline) / ROWS * 1e9
    tuple_ns = _best(recorder_tuples) / ROWS * 1e9
    dict_ns = _best(recorder_dicts) / len(dicts) * 1e9
    print(f"50 Histogram.observe calls      : {base_ns:10.0f} ns per prediction")
    print(f"DriftRecorder.record(tuple)     : {tuple_ns:10.0f} ns per prediction (ratio {tuple_ns / base_ns:.3f})")
    print(f"DriftRecorder.record(dict)      : {dict_ns:10.0f} ns per prediction (ratio {dict_ns / base_ns:.3f})")
    print(json.dumps({"benchmark": "drift_record_50_features", "baseline_ns": round(base_ns),
                      "tuple_ns": round(tuple_ns), "dict_ns": round(dict_ns),
                      "tuple_ratio": round(tuple_ns / base_ns, 4), "dict_ratio": round(dict_ns / base_ns, 4),
                      "target_ratio": 0.1}))


if __name__ == "__main__":
    main()
