"""Business, users, human feedback, incidents and model lifecycle events, through the HTTP API."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from fastapi.testclient import TestClient

from _sidecar import NOW, Clock, metrics, post, sample, samples, settings
from aivitals.sidecar import create_app
from aivitals.sidecar.events import KINDS

DAY = 86400.0


def test_kpi_exposures_and_conversions_are_counted_by_cohort(client: TestClient) -> None:
    post(client, "/v1/exposures", [{"kpi": "signup", "cohort": "treatment", "count": 100},
                                   {"kpi": "signup", "cohort": "control", "count": 90}])
    post(client, "/v1/conversions", [{"kpi": "signup", "cohort": "treatment", "count": 12},
                                     {"kpi": "signup", "cohort": "control"}])
    text = metrics(client)
    assert sample(text, "aivitals_kpi_exposures_total", {"kpi": "signup", "cohort": "treatment"}) == 100
    assert sample(text, "aivitals_kpi_exposures_total", {"kpi": "signup", "cohort": "control"}) == 90
    assert sample(text, "aivitals_kpi_conversions_total", {"kpi": "signup", "cohort": "treatment"}) == 12
    assert sample(text, "aivitals_kpi_conversions_total", {"kpi": "signup", "cohort": "control"}) == 1


def test_outcomes_work_units_and_configured_costs(client: TestClient) -> None:
    post(client, "/v1/outcomes", [{"outcome_kind": "ticket_resolved", "value_usd": 12.5},
                                  {"outcome_kind": "ticket_resolved", "value_usd": 30.0, "count": 3},
                                  {"outcome_kind": "ticket_resolved", "cohort": "control"}])
    post(client, "/v1/work-units", [{"cohort": "treatment", "duration_seconds": 600, "human_cost_usd": 5.0},
                                    {"cohort": "treatment", "duration_seconds": 2000, "human_cost_usd": 15.0}])
    text = metrics(client)
    treatment = {"outcome_kind": "ticket_resolved", "cohort": "treatment"}
    assert sample(text, "aivitals_business_outcomes_total", treatment) == 4
    assert sample(text, "aivitals_business_value_usd_total", treatment) == 42.5
    assert sample(text, "aivitals_business_outcomes_total", {**treatment, "cohort": "control"}) == 1
    assert sample(text, "aivitals_work_unit_duration_seconds_count", {"cohort": "treatment"}) == 2
    assert sample(text, "aivitals_work_unit_duration_seconds_sum", {"cohort": "treatment"}) == 2600
    assert sample(text, "aivitals_work_unit_duration_seconds_bucket", {"cohort": "treatment", "le": "900.0"}) == 1
    assert sample(text, "aivitals_human_cost_usd_total", {"cohort": "treatment"}) == 20
    assert sample(text, "aivitals_fixed_cost_usd_per_month", {"bucket": "compute"}) == 1200
    assert sample(text, "aivitals_fixed_cost_usd_per_month", {"bucket": "maintenance"}) == 400
    assert sample(text, "aivitals_eligible_users") == 1000


def test_distinct_active_users_over_trailing_windows(client: TestClient) -> None:
    post(client, "/v1/activity", [
        {"user": "u-recent", "time": NOW - 3600},
        {"user": "u-recent", "time": NOW - 1800},  # the same user twice is one user
        {"user": "u-3days", "time": NOW - 3 * DAY},
        {"user": "u-10days", "time": NOW - 10 * DAY},
        {"user": "u-30days", "time": NOW - 30 * DAY},
    ])
    text = metrics(client)
    assert sample(text, "aivitals_active_users", {"window": "1d"}) == 1
    assert sample(text, "aivitals_active_users", {"window": "7d"}) == 2
    assert sample(text, "aivitals_active_users", {"window": "28d"}) == 3


def test_time_to_value_is_first_use_to_first_productive_outcome_once_per_user(client: TestClient) -> None:
    post(client, "/v1/activity", [
        {"user": "u1", "time": NOW - 3 * 3600},
        {"user": "u1", "time": NOW - 3600, "productive": True},
        {"user": "u1", "time": NOW - 60, "productive": True},
        {"user": "u2", "time": NOW - 60, "productive": True},
    ])
    text = metrics(client)
    assert sample(text, "aivitals_time_to_value_seconds_count") == 2
    assert sample(text, "aivitals_time_to_value_seconds_sum") == 7200
    assert sample(text, "aivitals_time_to_value_seconds_bucket", {"le": "60.0"}) == 1


def test_user_keys_are_kept_only_as_keyed_hashes(tmp_path: Path) -> None:
    key = "user-key-3f9a77"
    with TestClient(create_app(settings(tmp_path), clock=Clock())) as client:
        response = client.post("/v1/activity", json={"user": key})
        text = metrics(client)
    assert key not in response.text and key not in text
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("sidecar.db"))
    assert key.encode() not in stored
    with sqlite3.connect(tmp_path / "sidecar.db") as db:
        (digest,) = db.execute("SELECT key FROM users").fetchone()
    assert len(digest) == 32  # HMAC-SHA256


def test_user_key_hashes_are_stable_across_restarts_with_the_key_file(tmp_path: Path) -> None:
    for _ in range(2):
        with TestClient(create_app(settings(tmp_path), clock=Clock())) as client:
            post(client, "/v1/activity", {"user": "u1"})
            text = metrics(client)
    assert sample(text, "aivitals_active_users", {"window": "1d"}) == 1


def test_the_least_recently_seen_users_are_evicted_past_the_count_bound(tmp_path: Path) -> None:
    with TestClient(create_app(settings(tmp_path, user_max_count=2), clock=Clock())) as client:
        post(client, "/v1/activity", [{"user": "a", "time": NOW - 30}, {"user": "b", "time": NOW - 20}])
        post(client, "/v1/activity", {"user": "c", "time": NOW - 10})
        text = metrics(client)
    assert sample(text, "aivitals_store_evictions_total", {"event_kind": "activity"}) == 1
    assert sample(text, "aivitals_active_users", {"window": "1d"}) == 2


def test_overrides_and_their_reversals_are_counted(client: TestClient) -> None:
    post(client, "/v1/overrides", [{"service": "desk", "model": "m", "action": "suggested"}] * 1
         + [{"service": "desk", "model": "m", "action": a} for a in ("suggested", "overridden", "reversed")])
    text = metrics(client)
    for action, count in (("suggested", 2), ("overridden", 1), ("reversed", 1)):
        assert sample(text, "aivitals_overrides_total", {"service": "desk", "model": "m", "action": action}) == count


def test_survey_scores_are_counted_as_nps_categories(client: TestClient) -> None:
    post(client, "/v1/surveys", [{"score": s} for s in (0, 6, 7, 8, 9, 10, 10)])
    text = metrics(client)
    assert sample(text, "aivitals_survey_responses_total", {"category": "detractor"}) == 2
    assert sample(text, "aivitals_survey_responses_total", {"category": "passive"}) == 2
    assert sample(text, "aivitals_survey_responses_total", {"category": "promoter"}) == 3


def test_incidents_open_detect_and_resolve(client: TestClient) -> None:
    opened = {"id": "inc-1", "severity": "high", "occurred_at": NOW - 1800, "detected_at": NOW - 600}
    assert post(client, "/v1/incidents", opened) == {"accepted": 1, "duplicate": 0}
    text = metrics(client)
    assert sample(text, "aivitals_incidents_total", {"severity": "high", "incident_source": "api"}) == 1
    assert sample(text, "aivitals_incidents_open", {"severity": "high"}) == 1
    assert sample(text, "aivitals_incident_time_to_detect_seconds_sum", {"severity": "high"}) == 1200
    assert post(client, "/v1/incidents", {"id": "inc-1", "severity": "high", "resolved_at": NOW}) == {
        "accepted": 1, "duplicate": 0}
    assert post(client, "/v1/incidents", {"id": "inc-1", "severity": "high", "resolved_at": NOW}) == {
        "accepted": 0, "duplicate": 1}
    text = metrics(client)
    assert sample(text, "aivitals_incidents_total", {"severity": "high", "incident_source": "api"}) == 1
    assert sample(text, "aivitals_incidents_open", {"severity": "high"}) == 0
    assert sample(text, "aivitals_incident_time_to_resolve_seconds_sum", {"severity": "high"}) == 600
    assert sample(text, "aivitals_incident_time_to_resolve_seconds_count", {"severity": "high"}) == 1


def _alert(status: str, starts: str, ends: str = "0001-01-01T00:00:00Z", fingerprint: str = "f00d",
           severity: str = "warning") -> dict[str, object]:
    return {"status": status, "labels": {"alertname": "HighErrorRate", "severity": severity},
            "annotations": {"summary": "errors"}, "startsAt": starts, "endsAt": ends,
            "generatorURL": "http://prometheus/graph", "fingerprint": fingerprint}


def _notification(*alerts: dict[str, object]) -> dict[str, object]:
    return {"version": "4", "groupKey": "{}:{}", "truncatedAlerts": 0, "status": alerts[0]["status"],
            "receiver": "aivitals", "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {},
            "externalURL": "http://alertmanager", "alerts": list(alerts), "a_future_key": {"ignored": True}}


def test_alertmanager_notifications_open_and_resolve_incidents_by_fingerprint(client: TestClient,
                                                                              sidecar_clock: Clock) -> None:
    # NOW is 2026-09-21T14:13:20Z; the alert started five minutes before it reached the sidecar
    firing = _notification(_alert("firing", "2026-09-21T14:08:20Z"))
    assert post(client, "/v1/alertmanager", firing) == {"accepted": 1, "duplicate": 0}
    sidecar_clock.now += 60
    assert post(client, "/v1/alertmanager", firing) == {"accepted": 0, "duplicate": 1}  # repeat notification
    text = metrics(client)
    assert sample(text, "aivitals_incidents_total", {"severity": "medium", "incident_source": "alertmanager"}) == 1
    assert sample(text, "aivitals_incident_time_to_detect_seconds_sum", {"severity": "medium"}) == 300
    assert sample(text, "aivitals_incidents_open", {"severity": "medium"}) == 1
    sidecar_clock.now += 1000
    resolved = _notification(_alert("resolved", "2026-09-21T14:08:20Z", "2026-09-21T14:28:20Z"))
    assert post(client, "/v1/alertmanager", resolved) == {"accepted": 1, "duplicate": 0}
    text = metrics(client)
    assert sample(text, "aivitals_incidents_open", {"severity": "medium"}) == 0
    assert sample(text, "aivitals_incident_time_to_resolve_seconds_sum", {"severity": "medium"}) == 900
    # the same alert firing again later is a new incident
    assert post(client, "/v1/alertmanager", _notification(_alert("firing", "2026-09-21T14:30:00Z")))["accepted"] == 1
    text = metrics(client)
    assert sample(text, "aivitals_incidents_total", {"severity": "medium", "incident_source": "alertmanager"}) == 2
    assert sample(text, "aivitals_events_total", {"event_kind": "alert", "result": "duplicate"}) == 1


def test_alert_severity_labels_map_onto_the_declared_set(client: TestClient) -> None:
    post(client, "/v1/alertmanager", _notification(
        _alert("firing", "2026-09-21T14:00:00Z", fingerprint="a", severity="critical"),
        _alert("firing", "2026-09-21T14:00:00Z", fingerprint="b", severity="page"),
        _alert("firing", "2026-09-21T14:00:00Z", fingerprint="c", severity="something-else")))
    text = metrics(client)
    assert sample(text, "aivitals_incidents_open", {"severity": "critical"}) == 2
    assert sample(text, "aivitals_incidents_open", {"severity": "medium"}) == 1


def test_an_alertmanager_payload_of_another_version_is_rejected(client: TestClient) -> None:
    response = client.post("/v1/alertmanager", json={**_notification(_alert("firing", "2026-09-21T14:00:00Z")),
                                                     "version": "3"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "version"]


def test_training_runs_and_ground_truth_set_the_freshness_timestamps(client: TestClient) -> None:
    post(client, "/v1/training-runs", [{"model": "churn", "time": NOW - DAY}, {"model": "churn", "time": NOW - 3600}])
    post(client, "/v1/training-runs", {"model": "churn", "time": NOW - 2 * DAY})  # late report of an older run
    post(client, "/v1/ground-truth", {"model": "churn", "time": NOW - 60})
    text = metrics(client)
    assert sample(text, "aivitals_training_runs_total", {"model": "churn"}) == 3
    assert sample(text, "aivitals_model_last_trained_timestamp_seconds", {"model": "churn"}) == NOW - 3600
    assert sample(text, "aivitals_ground_truth_last_timestamp_seconds", {"model": "churn"}) == NOW - 60


def test_a_mixed_batch_on_v1_events_counts_each_kind(client: TestClient) -> None:
    ack = post(client, "/v1/events", [
        {"kind": "survey", "score": 9},
        {"kind": "exposure", "kpi": "retention", "cohort": "control"},
        {"kind": "activity", "user": "u9"},
    ])
    assert ack == {"accepted": 3, "duplicate": 0}
    events = samples(metrics(client), "aivitals_events_total")
    assert events[(("event_kind", "survey"), ("result", "accepted"))] == 1
    assert events[(("event_kind", "exposure"), ("result", "accepted"))] == 1
    assert events[(("event_kind", "activity"), ("result", "accepted"))] == 1


def test_an_event_id_makes_delivery_idempotent(client: TestClient) -> None:
    event = {"event_id": "e-1", "kpi": "signup", "cohort": "treatment"}
    assert post(client, "/v1/conversions", event) == {"accepted": 1, "duplicate": 0}
    assert post(client, "/v1/conversions", [event, event]) == {"accepted": 0, "duplicate": 2}
    text = metrics(client)
    assert sample(text, "aivitals_kpi_conversions_total", {"kpi": "signup", "cohort": "treatment"}) == 1
    assert sample(text, "aivitals_events_total", {"event_kind": "conversion", "result": "duplicate"}) == 2


def test_health_readiness_and_openapi(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready"}
    doc = client.get("/openapi.json").json()
    assert {"/v1/predictions", "/v1/labels", "/v1/alertmanager", "/v1/events", "/metrics"} <= set(doc["paths"])
    assert doc["components"]["schemas"]["Exposure"]["properties"]["kpi"]["enum"] == ["signup", "retention"]


def _documented_examples() -> list[dict[str, object]]:
    """The jsonc block of docs/sidecar.md as events: a `// kind / kind: ...` comment names the kinds below it."""
    text = (Path(__file__).resolve().parents[1] / "docs" / "sidecar.md").read_text()
    block = text.split("```jsonc\n", 1)[1].split("```", 1)[0]
    events, kinds, pending = [], [], ""
    for line in block.splitlines():
        if line.startswith("//"):
            kinds = [k.split()[0] for k in line[2:].split(":", 1)[0].split("/")]
            continue
        pending += line.split("//", 1)[0]
        if pending.count("{") and pending.count("{") == pending.count("}"):
            events += [{"kind": kind, **json.loads(pending)} for kind in kinds]
            pending = ""
    return events


def test_every_documented_example_is_accepted(tmp_path: Path) -> None:
    examples = _documented_examples()
    assert {e["kind"] for e in examples} == set(KINDS)
    with TestClient(create_app(settings(tmp_path), clock=Clock(1_796_000_000.0))) as client:
        response = client.post("/v1/events", json=examples)
    assert response.status_code == 200, response.text
    assert response.json() == {"accepted": len(examples), "duplicate": 0}
