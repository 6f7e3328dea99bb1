"""The catalogue is consistent, follows Prometheus conventions and agrees with the SDK."""

from __future__ import annotations

import dataclasses
import itertools
import re

import pytest

from aivitals import _series
from aivitals.catalogue import (
    LABELS,
    METRICS,
    METRICS_BY_NAME,
    VITALS,
    CatalogueError,
    Comparison,
    Metric,
    MetricType,
    Source,
    Threshold,
    Unit,
    validate,
)
from aivitals.codegen.docs import render


def test_it_holds_the_thirty_vitals_and_the_six_tiles():
    assert sorted(v.number for v in VITALS if v.number) == list(range(1, 31))
    assert {v.tile.position for v in VITALS if v.tile} == set(range(1, 7))
    assert {"roi", "fixed_costs", "gpu_utilization", "host_cpu_utilization", "sdk_errors"} <= {v.id for v in VITALS}


def test_names_follow_prometheus_conventions():
    for metric in METRICS:
        assert re.fullmatch(r"aivitals_[a-z0-9_]+", metric.name)
        assert metric.name.endswith("_total") == (metric.type is MetricType.COUNTER), metric.name
        if metric.unit is not Unit.NONE:
            assert metric.name.removesuffix("_total").endswith(metric.unit.value), metric.name
        assert not re.search(r"_(milliseconds|ms|percent|kilobytes|mb)\b", metric.name)


def test_every_label_is_on_the_allow_list_and_bounded():
    for metric in METRICS:
        for label in metric.labels:
            spec = LABELS[label]
            assert spec.closed or spec.max_values > 0, label


def test_otel_genai_values_and_buckets():
    assert {"chat", "text_completion", "embeddings"} <= set(LABELS["operation"].values)
    assert {"input", "output"} <= set(LABELS["token_type"].values)
    duration = METRICS_BY_NAME["aivitals_request_duration_seconds"].buckets
    assert duration[0] == 0.01 and duration[-1] == 81.92
    assert all(b == pytest.approx(a * 2) for a, b in itertools.pairwise(duration))
    assert METRICS_BY_NAME["aivitals_request_tokens"].buckets[:4] == (1, 4, 16, 64)


def test_the_sdk_uses_the_catalogues_buckets():
    assert METRICS_BY_NAME["aivitals_request_duration_seconds"].buckets == _series._DURATION
    assert METRICS_BY_NAME["aivitals_time_to_first_chunk_seconds"].buckets == _series._TTFT
    assert METRICS_BY_NAME["aivitals_time_per_output_chunk_seconds"].buckets == _series._TPOT
    assert METRICS_BY_NAME["aivitals_request_tokens"].buckets == _series._TOKENS
    assert METRICS_BY_NAME["aivitals_quality_score"].buckets == _series.SCORE


def test_every_threshold_has_a_reason_and_sits_inside_its_range():
    for vital in VITALS:
        for threshold in vital.thresholds:
            assert threshold.reason
            for value in (threshold.warning, threshold.critical):
                if value is not None and threshold.maximum is not None:
                    assert value <= threshold.maximum


def test_every_vital_query_reads_only_catalogue_metrics():
    names = {m.name for m in METRICS}
    exposed = {n for m in METRICS for n in m.exposed_names}
    for vital in VITALS:
        # recording rule names (level:aivitals_x:window) are the rules' business, not raw series
        for token in re.findall(r"(?<![:\w])aivitals_[a-z0-9_]+(?![\w:])", vital.query):
            assert token in names or token in exposed, (vital.id, token)


@pytest.mark.parametrize("broken, message", [
    (Metric("aivitals_things", MetricType.COUNTER, Unit.NONE, "Things.", (), Source.SDK), "ends in _total"),
    (Metric("aivitals_latency_ms", MetricType.GAUGE, Unit.SECONDS, "Latency.", (), Source.SDK),
     "must be the name's suffix"),
    (Metric("aivitals_x_total", MetricType.COUNTER, Unit.NONE, "X.", ("user_id",), Source.SDK),
     "not on the allow-list"),
])
def test_validation_rejects_a_broken_metric(broken, message):
    with pytest.raises(CatalogueError, match=message):
        validate((*METRICS, broken), VITALS)


def test_validation_rejects_duplicates_and_inverted_thresholds():
    with pytest.raises(CatalogueError, match="defined twice"):
        validate((*METRICS, METRICS[0]), VITALS)
    vital = VITALS[0]
    inverted = dataclasses.replace(vital, thresholds=(Threshold(Comparison.ABOVE, 0.5, 0.1, "why", "x_max"),))
    with pytest.raises(CatalogueError, match="critical is not beyond warning"):
        validate(METRICS, (inverted, *VITALS[1:]))


def test_the_docs_list_every_metric_and_vital():
    text = render()
    assert text.startswith("<!-- generated")
    for metric in METRICS:
        assert f"`{metric.name}`" in text
    for vital in VITALS:
        assert f"(`{vital.id}`)" in text


def test_a_drift_record_that_drops_namespace_is_refused() -> None:
    """Two namespaces' drift counts of one model must never be added into one distribution."""
    from dataclasses import replace

    from aivitals.catalogue import (
        BOARDS,
        DERIVED,
        DRIFT,
        FIGURES,
        METRICS,
        TARGET_ALERTS,
        TOTALS,
        VITALS,
        CatalogueError,
        validate,
    )

    def check(drift: tuple) -> None:
        validate(METRICS, VITALS, DERIVED, FIGURES, boards=BOARDS, totals=TOTALS, targets=TARGET_ALERTS, drift=drift)

    check(DRIFT)
    first = DRIFT[0]
    dropped = replace(first, expr=first.expr.replace("by (namespace, ", "by ("))
    assert dropped.expr != first.expr
    with pytest.raises(CatalogueError, match="drops namespace"):
        check((dropped, *DRIFT[1:]))
