"""Every time entering the sidecar is timezone-aware; an incident cannot resolve before it occurred; one bad
request of a group commit never fails the others."""

from __future__ import annotations

import datetime as dt
import logging
from concurrent.futures import Future
from typing import Any

import pytest
from fastapi.testclient import TestClient

from _sidecar import NOW, metrics, post, sample
from aivitals.sidecar.events import Incident, Survey
from aivitals.sidecar.validate import RequestError
from aivitals.sidecar.writer import Result

NAIVE = "2026-09-21T10:00:00"
ISO_NOW = dt.datetime.fromtimestamp(NOW, dt.timezone.utc).isoformat()


def alerts(*items: dict[str, Any]) -> dict[str, Any]:
    return {"version": "4", "status": "firing", "alerts": list(items)}


@pytest.mark.parametrize(("path", "event", "field"), [
    ("/v1/surveys", {"score": 7, "time": NAIVE}, "time"),
    ("/v1/incidents", {"id": "i", "severity": "high", "occurred_at": NAIVE}, "occurred_at"),
    ("/v1/incidents", {"id": "i", "severity": "high", "resolved_at": "0001-01-01T00:00:00"}, "resolved_at"),
    ("/v1/events", {"kind": "training_run", "model": "m", "time": NAIVE}, "time"),
])
def test_a_time_without_a_timezone_gets_a_422_naming_the_field(client: TestClient, path: str,
                                                               event: dict[str, Any], field: str) -> None:
    response = client.post(path, json=event)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["loc"][-1] == field
    assert "no timezone" in response.json()["detail"]


@pytest.mark.parametrize(("alert", "field"), [
    ({"status": "firing", "fingerprint": "f", "startsAt": "0001-01-01T00:00:00"}, "startsAt"),
    ({"status": "resolved", "fingerprint": "f", "startsAt": ISO_NOW, "endsAt": "0001-01-01T00:00:00"}, "endsAt"),
    ({"status": "resolved", "fingerprint": "f", "startsAt": ISO_NOW, "endsAt": NAIVE}, "endsAt"),
])
def test_alertmanager_times_without_a_timezone_get_a_422_not_a_5xx(client: TestClient, alert: dict[str, Any],
                                                                   field: str) -> None:
    for _ in range(3):  # a retry gets the same answer, never a 503
        response = client.post("/v1/alertmanager", json=alerts(alert))
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["loc"] == ["body", "alerts", 0, field]
    assert client.post("/v1/surveys", json={"score": 9}).status_code == 200


def test_alertmanagers_zero_time_means_unset(client: TestClient) -> None:
    zero = "0001-01-01T00:00:00Z"
    starts = dt.datetime.fromtimestamp(NOW - 600, dt.timezone.utc).isoformat()
    post(client, "/v1/alertmanager", alerts({"status": "firing", "fingerprint": "z", "startsAt": starts,
                                             "endsAt": zero, "labels": {"severity": "critical"}}))
    post(client, "/v1/alertmanager", alerts({"status": "resolved", "fingerprint": "z", "startsAt": starts,
                                             "endsAt": zero, "labels": {"severity": "critical"}}))
    text = metrics(client)
    assert sample(text, "aivitals_incidents_open", {"severity": "critical"}) == 0
    # unset endsAt: resolved on receipt, which is also when it was detected
    assert sample(text, "aivitals_incident_time_to_resolve_seconds_sum", {"severity": "critical"}) == 0


def test_an_alert_resolved_before_it_started_is_refused(client: TestClient) -> None:
    ends = dt.datetime.fromtimestamp(NOW - 60, dt.timezone.utc).isoformat()
    response = client.post("/v1/alertmanager", json=alerts(
        {"status": "resolved", "fingerprint": "r", "startsAt": ISO_NOW, "endsAt": ends}))
    assert response.status_code == 422
    assert "before startsAt" in response.json()["detail"]


@pytest.mark.parametrize(("times", "field"), [
    ({"occurred_at": NOW - 100, "resolved_at": NOW - 200}, "resolved_at"),
    ({"detected_at": NOW - 100, "resolved_at": NOW - 200}, "resolved_at"),
    ({"occurred_at": NOW - 100, "detected_at": NOW - 200}, "detected_at"),
])
def test_an_incident_resolved_or_detected_before_it_occurred_is_refused_not_clamped(
        client: TestClient, times: dict[str, float], field: str) -> None:
    response = client.post("/v1/incidents", json={"id": "i", "severity": "high", **times})
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", 0, field]
    assert sample(metrics(client), "aivitals_incidents_total", {"severity": "high", "incident_source": "api"}) is None


def test_a_later_event_cannot_resolve_a_stored_incident_before_it_occurred(client: TestClient) -> None:
    post(client, "/v1/incidents", {"id": "i", "severity": "high", "occurred_at": NOW - 100})
    response = client.post("/v1/incidents", json={"id": "i", "severity": "high", "resolved_at": NOW - 500})
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "resolved_at"]
    assert "before the incident occurred" in response.json()["detail"]
    text = metrics(client)
    assert sample(text, "aivitals_incidents_open", {"severity": "high"}) == 1
    assert sample(text, "aivitals_incident_time_to_resolve_seconds_count", {"severity": "high"}) is None
    post(client, "/v1/incidents", {"id": "i", "severity": "high", "resolved_at": NOW})  # a right one still works
    text = metrics(client)  # the rejection is committed with a later group: this acknowledged request's, or earlier
    assert sample(text, "aivitals_incident_time_to_resolve_seconds_count", {"severity": "high"}) == 1
    assert sample(text, "aivitals_events_total", {"event_kind": "incident", "result": "rejected"}) == 1


def _grouped(client: TestClient, *batches: list[Any]) -> list[Result | BaseException]:
    """Submit batches so the writer commits them as one group: it is held on the ledger lock meanwhile."""
    sidecar = client.app.state.sidecar  # type: ignore[attr-defined]
    with sidecar.ledger.lock:
        sidecar.writer.submit([Survey(score=8)], NOW)  # (a passive) the writer takes this one and waits for the lock
        futures: list[Future[Result]] = [sidecar.writer.submit(batch, NOW) for batch in batches]
    outcomes: list[Result | BaseException] = []
    for future in futures:
        error = future.exception(timeout=10)
        outcomes.append(error if error is not None else future.result())
    return outcomes


def test_a_request_contradicting_the_store_fails_alone_in_its_group_commit(client: TestClient) -> None:
    post(client, "/v1/incidents", {"id": "i", "severity": "high", "occurred_at": NOW - 100})
    before = metrics(client)
    bad = [Survey(score=10), Incident(id="i", severity="high", resolved_at=NOW - 500)]
    good = [Survey(score=10, event_id="g1")]
    refused, accepted = _grouped(client, bad, good)
    assert isinstance(refused, RequestError) and refused.status == 422
    assert accepted == Result(1, 0)
    after = metrics(client)
    promoters = {"category": "promoter"}
    # the good request counted once; nothing of the refused one (its survey included) was kept
    assert sample(after, "aivitals_survey_responses_total", promoters) == (
        (sample(before, "aivitals_survey_responses_total", promoters) or 0) + 1)
    assert sample(after, "aivitals_incidents_open", {"severity": "high"}) == 1
    assert post(client, "/v1/surveys", {"score": 10, "event_id": "g1"}) == {"accepted": 0, "duplicate": 1}


def test_an_unexpected_failure_of_one_request_fails_it_alone_and_logs_no_event_text(
        client: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    applier = client.app.state.sidecar.applier  # type: ignore[attr-defined]
    real = applier._handlers["incident"]

    def broken(event: Incident, received: float) -> bool:  # the seam: one handler raising like a bug would
        real(event, received)
        raise ValueError(f"cannot apply {event.id}")

    monkeypatch.setitem(applier._handlers, "incident", broken)
    with caplog.at_level(logging.ERROR):
        refused, accepted = _grouped(client, [Incident(id="SECRET-ID-42", severity="high")], [Survey(score=0)])
    assert isinstance(refused, RequestError) and refused.status == 422
    assert "ValueError" in refused.detail and "retrying it will not help" in refused.detail
    assert accepted == Result(1, 0)
    assert "SECRET-ID-42" not in caplog.text and "ValueError" in caplog.text
    text = metrics(client)
    assert sample(text, "aivitals_incidents_total", {"severity": "high", "incident_source": "api"}) is None
    assert sample(text, "aivitals_incidents_open", {"severity": "high"}) is None
    assert sample(text, "aivitals_survey_responses_total", {"category": "detractor"}) == 1
