"""Bad input gets a 4xx that names the problem; nothing of a rejected batch is kept; secrets never echo."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from _sidecar import NOW, Clock, sample, samples, settings
from aivitals.sidecar import create_app

TOKEN = "s3cret-token-for-tests"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(settings(tmp_path, max_body_bytes=64 * 1024, max_batch_events=100),
                               clock=Clock())) as c:
        yield c


JSON = "application/json"
BAD = [
    # (path, body, content type, status, field path of the first error, words in the message)
    ("/v1/surveys", b'{"score": 5', JSON, 400, ["body"], "Invalid JSON"),
    ("/v1/surveys", b"", JSON, 400, None, "empty"),
    ("/v1/surveys", b'"just a string"', JSON, 400, None, "object or array"),
    ("/v1/surveys", b'{"score": "7"}', JSON, 422, ["body", "score"], "valid integer"),
    ("/v1/surveys", b'{"score": 11}', JSON, 422, ["body", "score"], "less than or equal to 10"),
    ("/v1/surveys", b'{"score": 7, "scroe": 1}', JSON, 422, ["body", "scroe"], "Extra inputs"),
    ("/v1/surveys", b'[{"score": 7}, {"score": true}]', JSON, 422, ["body", 1, "score"], "valid integer"),
    ("/v1/events", b'[{"kind": "telepathy"}]', JSON, 422, ["body", 0], "telepathy"),
    ("/v1/events", b'[{"score": 3}]', JSON, 422, ["body", 0], "kind"),
    ("/v1/events", b'[{"kind": "survey", "score": 11}]', JSON, 422, ["body", 0, "score"], "less than or equal"),
    ("/v1/exposures", b'{"kpi": "signup", "cohort": "holdout"}', JSON, 422, ["body", "cohort"], "treatment"),
    ("/v1/exposures", b'{"kpi": "revenue", "cohort": "control"}', JSON, 422, ["body", 0, "kpi"], "not declared"),
    ("/v1/outcomes", b'{"outcome_kind": "sale", "value_usd": 3}', JSON, 422, ["body", 0, "outcome_kind"],
     "not declared"),
    ("/v1/predictions", b'{"id": "a", "model": "m", "score": 0.5, "groups": {"planet": "mars"}}', JSON, 422,
     ["body", 0, "groups"], "not declared"),
    ("/v1/predictions", b'{"id": "a", "model": "m", "score": 0.5, "groups": {"region": "mars"}}', JSON, 422,
     ["body", 0, "groups.region"], "not declared"),
    ("/v1/predictions", b'{"id": "a", "model": "m"}', JSON, 422, ["body"], "predicted, score"),
    ("/v1/predictions", b'{"id": "a", "model": "m", "score": 1.5}', JSON, 422, ["body", "score"], "less than"),
    ("/v1/predictions", b'{"id": "a", "model": "m", "score": NaN}', JSON, 422, ["body", "score"], "finite"),
    ("/v1/predictions", b'{"id": "a", "model": "two words", "score": 0.5}', JSON, 422, ["body", "model"],
     "pattern"),
    ("/v1/surveys", b'{"score": 7, "time": "3000-01-01T00:00:00Z"}', JSON, 422, ["body", 0, "time"],
     "in the future"),
    ("/v1/surveys", b'{"score": 7, "time": 1790000000000}', JSON, 422, ["body", 0, "time"], "in the future"),
    ("/v1/surveys", b'{"score": 7, "time": 1790000}', JSON, 422, ["body", 0, "time"], "before 2000"),
    ("/v1/surveys", b'{"score": 7, "time": "2026-09-21T10:00:00"}', JSON, 422, ["body", "time"], "timezone"),
    ("/v1/incidents", b'{"id": "i", "severity": "apocalyptic"}', JSON, 422, ["body", 0, "severity"],
     "not declared"),
    ("/v1/surveys", b"score=7", "application/x-www-form-urlencoded", 415, None, "application/json"),
    ("/v1/surveys", b'{"score": 7}\n{"score": 12}\n', "application/x-ndjson", 422, ["body", 1, "score"],
     "less than"),
    ("/v1/surveys", b"[" + b",".join([b'{"score": 1}'] * 101) + b"]", JSON, 422, ["body"], "at most 100"),
    ("/v1/alertmanager", b'{"version": "4", "alerts": [{"status": "firing"}]}', JSON, 422,
     ["body", "alerts", 0, "startsAt"], "Field required"),
]


@pytest.mark.parametrize(("path", "body", "ctype", "status", "loc", "words"), BAD,
                         ids=[f"{b[0]}:{b[3]}:{i}" for i, b in enumerate(BAD)])
def test_bad_input_gets_a_4xx_naming_the_problem(client: TestClient, path: str, body: bytes, ctype: str,
                                                 status: int, loc: list[str | int] | None, words: str) -> None:
    response = client.post(path, content=body, headers={"Content-Type": ctype})
    assert response.status_code == status, response.text
    error = response.json()
    assert words in error["detail"] or any(words in e["msg"] for e in error["errors"])
    if loc is not None:
        assert error["errors"][0]["loc"] == loc


def test_rejections_are_counted_by_kind(client: TestClient) -> None:
    client.post("/v1/surveys", json=[{"score": 1}, {"score": 11}])
    client.post("/v1/events", json=[{"kind": "activity", "user": "x@example.org"}])
    # rejections are committed with the next group, nobody waits for them: once a later request is
    # acknowledged (the queue is first in, first out) they are in
    assert client.post("/v1/surveys", json={"score": 5}).status_code == 200
    events = samples(client.get("/metrics").text, "aivitals_events_total")
    assert events[(("event_kind", "survey"), ("result", "rejected"))] == 2
    assert events[(("event_kind", "activity"), ("result", "rejected"))] == 1


def test_a_batch_with_one_bad_event_is_not_written_at_all(client: TestClient) -> None:
    batch = [{"kind": "exposure", "kpi": "signup", "cohort": "control"},
             {"kind": "prediction", "id": "p1", "model": "m", "score": 0.4},
             {"kind": "survey", "score": 11}]
    assert client.post("/v1/events", json=batch).status_code == 422
    assert client.post("/v1/labels", json={"prediction_id": "p1", "actual": True}).status_code == 200
    text = client.get("/metrics").text
    assert sample(text, "aivitals_kpi_exposures_total", {"kpi": "signup", "cohort": "control"}) is None
    assert sample(text, "aivitals_labels_total", {"model": "other", "result": "unknown"}) == 1


def test_an_email_address_as_user_key_is_rejected_and_not_echoed(client: TestClient) -> None:
    email = "jane.doe@example.com"
    response = client.post("/v1/activity", json=[{"user": "ok-key"}, {"user": f"mailto:{email}"}])
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", 1, "user"]
    assert "hash or pseudonymise" in response.json()["detail"]
    assert email not in response.text
    assert email not in client.get("/metrics").text


def test_validation_errors_never_echo_submitted_values(client: TestClient) -> None:
    response = client.post("/v1/activity", json={"user": "secret-user-key", "productive": "yes"})
    assert response.status_code == 422
    assert "secret-user-key" not in response.text


def test_a_body_over_the_limit_is_refused_by_its_declared_length(client: TestClient) -> None:
    response = client.post("/v1/surveys", content=b"[" + b'{"score": 1},' * 10_000 + b'{"score": 1}]',
                           headers={"Content-Type": JSON})
    assert response.status_code == 413
    assert "max_body_bytes" in response.json()["detail"]


def test_ndjson_batches_are_accepted(client: TestClient) -> None:
    body = b'{"score": 10}\n\n{"score": 3}\n'
    response = client.post("/v1/surveys", content=body, headers={"Content-Type": "application/x-ndjson"})
    assert response.json() == {"accepted": 2, "duplicate": 0}


def test_time_may_be_unix_seconds_or_rfc3339_with_offset(client: TestClient) -> None:
    response = client.post("/v1/training-runs", json=[{"model": "a", "time": NOW - 10},
                                                      {"model": "b", "time": "2026-09-21T16:13:10+02:00"}])
    assert response.status_code == 200
    text = client.get("/metrics").text
    assert sample(text, "aivitals_model_last_trained_timestamp_seconds", {"model": "a"}) == NOW - 10
    assert sample(text, "aivitals_model_last_trained_timestamp_seconds", {"model": "b"}) == NOW - 10


def test_a_configured_token_is_required_on_v1_but_not_on_metrics(tmp_path: Path) -> None:
    with TestClient(create_app(settings(tmp_path, token=TOKEN), clock=Clock())) as client:
        assert client.post("/v1/surveys", json={"score": 9}).status_code == 401
        wrong = client.post("/v1/surveys", json={"score": 9}, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401 and wrong.headers["WWW-Authenticate"] == "Bearer"
        ok = client.post("/v1/surveys", json={"score": 9}, headers={"Authorization": f"Bearer {TOKEN}"})
        assert ok.status_code == 200
        assert client.get("/metrics").status_code == 200
        doc = client.get("/openapi.json").json()
    assert doc["paths"]["/v1/surveys"]["post"]["security"] == [{"bearer": []}]
