"""The streaming drift recorder: exact bin counts, bad input counted not raised, bounded memory."""

from __future__ import annotations

import logging
import math
import threading
import tracemalloc

import numpy as np
import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.utils import floatToGoString

from aivitals.drift import PREDICTION, DriftRecorder, Profile, build_profile
from aivitals.stats import bin_counts

MODEL = "fraud"
REJECTED = "aivitals_drift_rejected_values_total"


@pytest.fixture(scope="module")
def profile() -> Profile:
    rng = np.random.default_rng(0)
    n = 2000
    return build_profile({
        "amount": rng.lognormal(3, 1, n).tolist(),
        "delta": rng.normal(0, 1, n).tolist(),
        "country": rng.choice(["us", "de", "fr", "jp"], n).tolist(),
        "p": rng.random(n).tolist(),
    }, bins=6, top_k=3, prediction_column="p")


def _bins(registry: CollectorRegistry, feature: str, size: int) -> list[float]:
    return [registry.get_sample_value("aivitals_feature_bin_observations_total",
                                      {"model": MODEL, "feature": feature, "feature_bin": str(i)}) or 0.0
            for i in range(size)]


def _rejected(registry: CollectorRegistry, feature: str, reason: str) -> float:
    return registry.get_sample_value(REJECTED, {"model": MODEL, "feature": feature, "reason": reason}) or 0.0


def _rows(seed: int, n: int) -> list[tuple[dict[str, object], float]]:
    rng = np.random.default_rng(seed)
    return [({"amount": float(a), "delta": float(d), "country": str(c)}, float(p)) for a, d, c, p in
            zip(rng.lognormal(3.2, 1, n), rng.normal(0.5, 1, n), rng.choice(["us", "de", "br"], n), rng.random(n),
                strict=True)]


@pytest.mark.parametrize("buffer_size", [1, 7, 4096])
def test_bins_hold_exactly_the_recorded_values(profile: Profile, buffer_size: int) -> None:
    registry = CollectorRegistry()
    recorder = DriftRecorder(profile, MODEL, registry=registry, buffer_size=buffer_size)
    rows = _rows(1, 500)
    for features, p in rows:
        recorder.record(features, prediction=p)
    for feature in profile.features:
        if feature.kind == "categorical":
            index = {c: i for i, c in enumerate(feature.categories)}
            expected = np.bincount([index.get(str(f[feature.name]), feature.bins - 1) for f, _ in rows],
                                   minlength=feature.bins)
        else:
            values = [p if feature.name == PREDICTION else f[feature.name] for f, p in rows]
            expected = bin_counts(values, feature.edges)
            les = [floatToGoString(e) for e in feature.edges] + ["+Inf"]
            cumulative = [registry.get_sample_value("aivitals_feature_values_bucket",
                                                    {"model": MODEL, "feature": feature.name, "le": le}) for le in les]
            assert cumulative == np.cumsum(expected).tolist()
        assert _bins(registry, feature.name, feature.bins) == expected.tolist()


def test_reference_shares_are_exported_per_bin_and_cumulated_per_bound(profile: Profile) -> None:
    registry = CollectorRegistry()
    DriftRecorder(profile, MODEL, registry=registry)
    delta = profile.feature("delta")
    per_bin = [registry.get_sample_value("aivitals_feature_reference_bin_ratio",
                                         {"model": MODEL, "feature": "delta", "feature_bin": str(i)})
               for i in range(delta.bins)]
    assert per_bin == list(delta.reference)
    top = registry.get_sample_value("aivitals_feature_reference_ratio",
                                    {"model": MODEL, "feature": "delta", "bound": "+Inf"})
    first = registry.get_sample_value("aivitals_feature_reference_ratio",
                                      {"model": MODEL, "feature": "delta", "bound": floatToGoString(delta.edges[0])})
    assert top == 1.0 and first == pytest.approx(delta.reference[0])


def test_positive_features_carry_count_and_sum(profile: Profile) -> None:
    registry = CollectorRegistry()
    recorder = DriftRecorder(profile, MODEL, registry=registry)
    recorder.record({"amount": 10.0, "delta": 0.0, "country": "us"})
    recorder.record({"amount": 2.5, "delta": 0.0, "country": "us"})
    labels = {"model": MODEL, "feature": "amount"}
    assert registry.get_sample_value("aivitals_feature_values_count", labels) == 2.0
    assert registry.get_sample_value("aivitals_feature_values_sum", labels) == 12.5


BAD = [
    ({"amount": "12", "delta": 0.0, "country": "us"}, "amount", "wrong_type"),
    ({"amount": math.nan, "delta": 0.0, "country": "us"}, "amount", "not_finite"),
    ({"amount": 1.0, "delta": -math.inf, "country": "us"}, "delta", "not_finite"),
    ({"delta": 0.0, "country": "us"}, "amount", "missing"),
    ({"amount": None, "delta": 0.0, "country": "us"}, "amount", "missing"),
    ({"amount": 1.0, "delta": 0.0, "country": 3.5}, "country", "wrong_type"),
    ({"amount": 1.0, "delta": 0.0, "country": "us", "secret": "x"}, "__unknown__", "unknown_feature"),
    ((1.0, 2.0), "__row__", "wrong_shape"),
    (42, "__row__", "wrong_shape"),
    ("amount", "__row__", "wrong_shape"),
]


@pytest.mark.parametrize(("row", "feature", "reason"), BAD)
def test_bad_input_is_counted_never_raised_and_never_binned(profile: Profile, row: object, feature: str,
                                                            reason: str) -> None:
    registry = CollectorRegistry()
    recorder = DriftRecorder(profile, MODEL, registry=registry)
    recorder.record(row)  # type: ignore[arg-type]
    recorder.record({"amount": 5.0, "delta": 0.1, "country": "de"})
    assert _rejected(registry, feature, reason) == 1.0
    if feature in ("amount", "delta", "country"):
        # the bad value is dropped, the good row is binned: one value in total
        assert sum(_bins(registry, feature, profile.feature(feature).bins)) == 1.0
        others = [f.name for f in profile.inputs if f.name != feature]
        assert all(sum(_bins(registry, o, profile.feature(o).bins)) == 2.0 for o in others)


def test_bad_values_inside_a_full_buffer_do_not_spoil_the_others(profile: Profile) -> None:
    registry = CollectorRegistry()
    recorder = DriftRecorder(profile, MODEL, registry=registry, buffer_size=64)
    for i in range(200):
        value: object = "oops" if i % 10 == 0 else (math.nan if i % 10 == 1 else float(i))
        recorder.record({"amount": value, "delta": float(i), "country": "us"}, prediction=0.5 if i % 2 else "x")
    assert _rejected(registry, "amount", "wrong_type") == 20
    assert _rejected(registry, "amount", "not_finite") == 20
    assert _rejected(registry, PREDICTION, "wrong_type") == 100
    assert sum(_bins(registry, "amount", profile.feature("amount").bins)) == 160
    assert sum(_bins(registry, PREDICTION, profile.prediction.bins)) == 100  # type: ignore[union-attr]


def test_a_problem_is_logged_once_without_the_value(profile: Profile, caplog: pytest.LogCaptureFixture) -> None:
    recorder = DriftRecorder(profile, MODEL, registry=CollectorRegistry())
    with caplog.at_level(logging.WARNING, logger="aivitals.drift"):
        for _ in range(5):
            recorder.record({"amount": "card 4111-1111", "delta": 0.0, "country": "us"})
        list(recorder.collect())
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 1
    assert "wrong_type" in messages[0] and "4111" not in messages[0]


def test_a_model_whose_features_differ_from_the_profile_is_counted_every_row(profile: Profile) -> None:
    registry = CollectorRegistry()
    recorder = DriftRecorder(profile, MODEL, registry=registry, feature_names=["delta", "amount", "extra"])
    recorder.record((0.1, 20.0, 5.0))
    recorder.record([0.2, 30.0, 6.0])
    recorder.record(np.array([0.3, 40.0, 7.0]))
    assert _rejected(registry, "country", "missing") == 3
    assert _rejected(registry, "__unknown__", "unknown_feature") == 3
    assert sum(_bins(registry, "amount", profile.feature("amount").bins)) == 3
    assert registry.get_sample_value("aivitals_feature_values_bucket",
                                     {"model": MODEL, "feature": "amount", "le": "+Inf"}) == 3


def test_a_categorical_prediction_anywhere_in_a_loaded_profile_is_binned() -> None:
    from aivitals.drift.profile import profile_from_dict, profile_to_dict

    document = profile_to_dict(build_profile({"x": [1.0, 2.0, 3.0], "label": ["yes", "no", "yes"]},
                                             prediction_column="label"))
    document["features"].reverse()  # the prediction first: order in the file does not matter
    profile = profile_from_dict(document)
    registry = CollectorRegistry()
    recorder = DriftRecorder(profile, MODEL, registry=registry)
    for label in ("yes", "no", "maybe", "yes"):
        recorder.record({"x": 2.0}, prediction=label)
    assert _bins(registry, PREDICTION, 3) == [2.0, 1.0, 1.0]  # yes, no, other
    assert sum(_bins(registry, "x", profile.feature("x").bins)) == 4


def test_a_prediction_without_a_profiled_prediction_is_counted() -> None:
    profile = build_profile({"x": [1.0, 2.0, 3.0]})
    registry = CollectorRegistry()
    recorder = DriftRecorder(profile, MODEL, registry=registry)
    recorder.record((1.5,), prediction=0.3)
    assert _rejected(registry, PREDICTION, "unknown_feature") == 1
    assert sum(_bins(registry, "x", profile.feature("x").bins)) == 1


def test_memory_does_not_grow_with_samples(profile: Profile) -> None:
    rows = [tuple(r) for r in np.random.default_rng(2).random((1000, 3)).tolist()]
    recorder = DriftRecorder(profile, MODEL, registry=CollectorRegistry(), buffer_size=256,
                             feature_names=["amount", "delta", "p2"])

    def record(times: int) -> int:
        for _ in range(times):
            for row in rows:
                recorder.record(row, prediction=0.5)
        list(recorder.collect())
        return tracemalloc.get_traced_memory()[0]

    tracemalloc.start()
    try:
        record(2)  # warm up: counters, logs, caches
        after_small = record(2)
        after_large = record(40)  # 40 000 more samples
    finally:
        tracemalloc.stop()
    assert after_large - after_small < 64 * 1024  # 40k rows kept would be megabytes


def test_concurrent_records_and_scrapes_lose_nothing(profile: Profile) -> None:
    registry = CollectorRegistry()
    recorder = DriftRecorder(profile, MODEL, registry=registry, buffer_size=100)
    rows = [(float(i), float(i % 7), "us") for i in range(5000)]

    def work() -> None:
        for row in rows:
            recorder.record(row, prediction=0.5)

    def scrape() -> None:
        for _ in range(50):
            list(registry.collect())

    threads = [threading.Thread(target=work) for _ in range(4)] + [threading.Thread(target=scrape)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for feature in profile.features:
        assert sum(_bins(registry, feature.name, feature.bins)) == 20_000, feature.name


def test_construction_errors_are_for_the_programmer(profile: Profile) -> None:
    with pytest.raises(TypeError, match="Profile"):
        DriftRecorder({"x": 1}, MODEL)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="model"):
        DriftRecorder(profile, "")
    with pytest.raises(ValueError, match="duplicates"):
        DriftRecorder(profile, MODEL, feature_names=["a", "a"])


def test_a_value_on_an_edge_lands_in_the_bucket_that_edge_closes(profile: Profile) -> None:
    registry = CollectorRegistry()
    recorder = DriftRecorder(profile, MODEL, registry=registry)
    edges = profile.feature("delta").edges
    for edge in edges:
        recorder.record({"amount": 1.0, "delta": edge, "country": "us"})
    recorder.record({"amount": 1.0, "delta": math.nextafter(edges[-1], math.inf), "country": "us"})
    assert _bins(registry, "delta", len(edges) + 1) == [1.0] * (len(edges) + 1)
