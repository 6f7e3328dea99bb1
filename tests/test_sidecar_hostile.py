"""Hostile input at every sidecar endpoint (hypothesis): never a 5xx, an acknowledged event is counted exactly once,
exported counters never go down or become NaN, and no label grows past its cap."""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, event, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

from _sidecar import NOW, Clock, settings
from aivitals.catalogue import LABELS
from aivitals.sidecar import create_app
from aivitals.sidecar.events import KINDS

PATHS = ["/v1/events", "/v1/alertmanager", *(f"/v1/{path}" for _, path in KINDS.values())]
CONTENT_TYPES = ["application/json", "application/x-ndjson", "text/plain", "application/merge-patch+json"]
FIELDS = ["kind", "event_id", "time", "id", "model", "predicted", "score", "confidence", "positive_class", "groups",
          "prediction_id", "actual", "kpi", "cohort", "count", "outcome_kind", "value_usd", "duration_seconds",
          "human_cost_usd", "user", "productive", "service", "action", "severity", "occurred_at", "detected_at",
          "resolved_at"]
TIMES = st.one_of(
    st.sampled_from(["2026-09-21T10:00:00", "2026-09-21T10:00:00Z", "0001-01-01T00:00:00", "0001-01-01T00:00:00Z",
                     "9999-12-31T23:59:59+14:00", "2026-02-30T00:00:00Z", "2026-09-21", "yesterday", "",
                     "2026-09-21T10:00:00+25:00", "1790000000", "2026-09-21T09:59:00-00:00"]),
    st.floats(allow_nan=True, allow_infinity=True), st.integers(-(10**30), 10**30),
    st.just(NOW - 60), st.just(NOW), st.just(NOW + 1e6))
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-(10**40), 10**40), st.floats(), st.text(max_size=30),
                    st.sampled_from(["signup", "treatment", "control", "m", "high", "eu", "region", "suggested",
                                     "a@b.example", "\u202e\x00\ud7ff"]), TIMES)
JSON = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                    st.dictionaries(st.text(max_size=12), inner, max_size=4)),
                    max_leaves=12)
EVENTISH = st.builds(lambda kind, fields: {"kind": kind, **fields}, st.sampled_from([*KINDS, "alert", "nope"]),
                     st.dictionaries(st.sampled_from(FIELDS), SCALARS, max_size=7))
ALERT = st.fixed_dictionaries({"status": st.sampled_from(["firing", "resolved", "pending"]),
                               "fingerprint": st.sampled_from(["f1", "f2", ""]) | st.text(max_size=10),
                               "startsAt": TIMES | st.sampled_from(["2026-09-21T10:00:00Z", NOW - 100])},
                              optional={"endsAt": TIMES, "labels": st.dictionaries(st.text(max_size=8),
                                                                                    st.text(max_size=8), max_size=3)})
IDS = st.one_of(st.text(min_size=1, max_size=20), st.sampled_from(["a@b.example", "p1", "i1", "f1"]))
#: Well-formed events whose times and ids are hostile: these reach the writer and the store.
NEARLY_VALID = st.one_of(
    st.fixed_dictionaries({"kind": st.just("incident"), "id": IDS, "severity": st.sampled_from(["high", "low"])},
                          optional={"occurred_at": TIMES, "detected_at": TIMES, "resolved_at": TIMES,
                                    "event_id": IDS}),
    st.fixed_dictionaries({"kind": st.just("prediction"), "id": IDS, "model": st.sampled_from(["a", "b"]),
                           "score": st.floats(0, 1)}, optional={"time": TIMES, "event_id": IDS}),
    st.fixed_dictionaries({"kind": st.just("label"), "prediction_id": IDS,
                           "actual": st.one_of(st.booleans(), st.integers(0, 3), st.text(min_size=1, max_size=5))},
                          optional={"time": TIMES, "event_id": IDS}),
    st.fixed_dictionaries({"kind": st.just("survey"), "score": st.integers(0, 10)},
                          optional={"time": TIMES, "event_id": IDS}))
NOTIFICATION = st.fixed_dictionaries({"version": st.sampled_from(["4", "3", 4]), "alerts": st.lists(ALERT, max_size=3)})
BODIES = st.one_of(
    JSON.map(lambda v: json.dumps(v, allow_nan=True).encode()),
    EVENTISH.map(lambda v: json.dumps(v, allow_nan=True).encode()),
    st.lists(EVENTISH, max_size=5).map(lambda v: json.dumps(v, allow_nan=True).encode()),
    st.lists(EVENTISH, max_size=5).map(lambda v: b"\n".join(json.dumps(e, allow_nan=True).encode() for e in v)),
    NOTIFICATION.map(lambda v: json.dumps(v, allow_nan=True).encode()),
    st.lists(NEARLY_VALID, min_size=1, max_size=4).map(lambda v: json.dumps(v, allow_nan=True).encode()),
    st.lists(NEARLY_VALID, min_size=1, max_size=4).map(lambda v: json.dumps(v, allow_nan=True).encode()),
    st.integers(1, 3000).map(lambda n: b"[" * n + b"]" * n),
    st.integers(1, 3000).map(lambda n: b'{"a":' * n + b"1" + b"}" * n),
    st.sampled_from([b"", b"[", b"NaN", b"-Infinity", b'{"score": 1e999}', b'{"score": ' + b"9" * 5000 + b"}",
                     b'{"score": 7, "time": 1e400}', b"\xff\xfe\x00", b'{"score": 7}\x00', b"[" * 100000]),
    st.binary(max_size=64))


@pytest.fixture
def hostile(tmp_path: Path) -> Iterator[TestClient]:
    conf = settings(tmp_path, max_body_bytes=256 * 1024, max_batch_events=50)
    with TestClient(create_app(conf, clock=Clock()), raise_server_exceptions=False) as client:
        yield client


def exported(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], tuple[str, float]]:
    """Every aivitals_ sample with its family's type."""
    out = {}
    for family in text_string_to_metric_families(client.get("/metrics").text):
        for s in family.samples:
            if s.name.startswith("aivitals_"):
                out[(s.name, tuple(sorted(s.labels.items())))] = (family.type, float(s.value))
    return out


def events_total(samples: dict[tuple[str, tuple[tuple[str, str], ...]], tuple[str, float]], result: str) -> float:
    return sum(v for (name, labels), (_, v) in samples.items()
               if name == "aivitals_events_total" and ("result", result) in labels)


def assert_sane(before: dict[Any, tuple[str, float]], after: dict[Any, tuple[str, float]]) -> None:
    for key, (kind, value) in after.items():
        assert math.isfinite(value), key
        if kind in ("counter", "histogram"):
            assert value >= 0, key
            assert value >= before.get(key, (kind, 0.0))[1], f"{key} went down"
    for key in before:
        assert key in after, f"{key} disappeared"
    seen: dict[str, set[str]] = {}
    for _, labels in after:
        for label, value in labels:
            seen.setdefault(label, set()).add(value)
    for label, values in seen.items():
        spec = LABELS.get(label)
        if spec is not None:
            cap = spec.max_values + 1 if spec.max_values else len(spec.values) + 1
            assert len(values) <= cap, f"{label}: {len(values)} values, cap {cap}"


HYPOTHESIS = hsettings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                             HealthCheck.too_slow])


def check_post(client: TestClient, path: str, body: bytes, ctype: str) -> None:
    """Post once; the answer and every exported series must obey the properties in the module docstring."""
    before = exported(client)
    response = client.post(path, content=body, headers={"Content-Type": ctype})
    after = exported(client)
    event(f"status {response.status_code}")
    assert response.status_code < 500, (response.status_code, response.text)
    assert response.json()["detail" if response.status_code >= 400 else "accepted"] is not None
    if response.status_code == 200:
        ack = response.json()
        assert events_total(after, "accepted") - events_total(before, "accepted") == ack["accepted"]
        assert events_total(after, "duplicate") - events_total(before, "duplicate") == ack["duplicate"]
    else:
        assert events_total(after, "accepted") == events_total(before, "accepted")
    assert_sane(before, after)


@HYPOTHESIS
@given(path=st.sampled_from(PATHS), body=BODIES, ctype=st.sampled_from(CONTENT_TYPES))
def test_arbitrary_bodies_never_get_a_5xx_and_leave_every_counter_sane(hostile: TestClient, path: str, body: bytes,
                                                                       ctype: str) -> None:
    check_post(hostile, path, body, ctype)


@HYPOTHESIS
@given(batches=st.lists(st.one_of(st.lists(NEARLY_VALID, min_size=1, max_size=4), NOTIFICATION), min_size=1,
                        max_size=4))
def test_well_formed_events_with_hostile_times_and_ids_never_get_a_5xx(hostile: TestClient,
                                                                      batches: list[Any]) -> None:
    for batch in batches:  # several requests per example: later ones meet what earlier ones stored
        path = "/v1/alertmanager" if isinstance(batch, dict) else "/v1/events"
        check_post(hostile, path, json.dumps(batch, allow_nan=True).encode(), "application/json")


VALID = st.one_of(
    st.builds(lambda s: {"kind": "survey", "score": s}, st.integers(0, 10)),
    st.builds(lambda k, c: {"kind": "exposure", "kpi": k, "cohort": c}, st.sampled_from(["signup", "retention"]),
              st.sampled_from(["treatment", "control"])),
    st.builds(lambda u, p: {"kind": "activity", "user": u, "productive": p}, st.text(min_size=1, max_size=20)
              .filter(lambda u: "@" not in u), st.booleans()),
    st.builds(lambda m, sc: {"kind": "prediction", "id": uuid.uuid4().hex, "model": m, "score": sc},
              st.sampled_from(["a", "b"]), st.floats(0, 1)),
    st.builds(lambda t: {"kind": "training_run", "model": "a", "time": t},
              st.floats(NOW - 86400, NOW).map(round)))


@hsettings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(VALID, min_size=1, max_size=8), repeats=st.integers(1, 3))
def test_an_acknowledged_batch_is_counted_exactly_once_however_often_it_is_resent(
        hostile: TestClient, batch: list[dict[str, Any]], repeats: int) -> None:
    for item in batch:
        item["event_id"] = uuid.uuid4().hex
    before = exported(hostile)
    answers = [hostile.post("/v1/events", json=batch) for _ in range(repeats)]
    after = exported(hostile)
    assert [a.status_code for a in answers] == [200] * repeats
    assert answers[0].json() == {"accepted": len(batch), "duplicate": 0}
    assert all(a.json() == {"accepted": 0, "duplicate": len(batch)} for a in answers[1:])
    assert events_total(after, "accepted") - events_total(before, "accepted") == len(batch)
    assert_sane(before, after)


def test_acknowledged_events_survive_a_restart_exactly_once(tmp_path: Path) -> None:
    conf = settings(tmp_path)
    acknowledged = 0
    with TestClient(create_app(conf, clock=Clock())) as client:
        for i in range(20):
            batch = [{"kind": "survey", "score": i % 11, "event_id": f"e{i}"},
                     {"kind": "survey", "score": 3, "event_id": "t" + "[" * 40}]  # an odd id, same each time
            acknowledged += client.post("/v1/events", json=batch).json()["accepted"]
        counted = events_total(exported(client), "accepted")
    with TestClient(create_app(conf, clock=Clock())) as client:
        again = client.post("/v1/events", json=[{"kind": "survey", "score": 1, "event_id": "e1"}]).json()
        after = exported(client)
    assert acknowledged == counted == events_total(after, "accepted") == 21
    assert again == {"accepted": 0, "duplicate": 1}


def test_a_flood_of_model_names_folds_into_other_at_the_cap(hostile: TestClient) -> None:
    cap = LABELS["model"].max_values
    batch = [{"kind": "training_run", "model": f"model-{i}"} for i in range(cap + 30)]
    before = exported(hostile)
    assert hostile.post("/v1/events", json=batch[:40]).status_code == 200
    assert hostile.post("/v1/events", json=batch[40:]).status_code == 200
    after = exported(hostile)
    models = {dict(labels)["model"] for name, labels in after if name == "aivitals_training_runs_total"}
    assert len(models) == cap + 1 and "other" in models
    assert_sane(before, after)
