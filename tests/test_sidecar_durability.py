"""A 2xx means committed: counters resume exactly after a restart or a kill, a failed commit keeps nothing."""

from __future__ import annotations

import signal
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from _sidecar import NOW, Clock, free_port, get, sample, settings, start_sidecar, stop
from aivitals.sidecar import SQLiteStore, StoreError, create_app
from aivitals.sidecar.app import retention_from
from aivitals.sidecar.client import SidecarClient

EVENTS = [
    ("/v1/predictions", [{"id": f"p{i}", "model": "m", "score": i / 10, "time": NOW - 600} for i in range(10)]),
    ("/v1/labels", [{"prediction_id": f"p{i}", "actual": i % 3 == 0} for i in range(10)]),
    ("/v1/exposures", {"kpi": "signup", "cohort": "treatment", "count": 40}),
    ("/v1/outcomes", {"outcome_kind": "ticket_resolved", "value_usd": 9.5}),
    ("/v1/work-units", {"cohort": "control", "duration_seconds": 700}),
    ("/v1/activity", [{"user": "u1", "time": NOW - 7200}, {"user": "u1", "productive": True}]),
    ("/v1/overrides", {"service": "s", "model": "m", "action": "overridden"}),
    ("/v1/surveys", {"score": 4}),
    ("/v1/incidents", {"id": "i1", "severity": "low", "occurred_at": NOW - 100}),
    ("/v1/training-runs", {"model": "m", "time": NOW - 50}),
]


def aivitals_samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) if family.name.startswith("aivitals_")
            for s in family.samples}


def test_every_series_resumes_exactly_after_a_restart(tmp_path: Path) -> None:
    clock = Clock()
    with TestClient(create_app(settings(tmp_path), clock=clock)) as client:
        for path, body in EVENTS:
            assert client.post(path, json=body).status_code == 200
        before = aivitals_samples(client.get("/metrics").text)
    with TestClient(create_app(settings(tmp_path), clock=clock)) as client:
        after = aivitals_samples(client.get("/metrics").text)
        # and they go on counting from where they were
        client.post("/v1/surveys", json={"score": 4})
        later = client.get("/metrics").text
    assert len(before) > 100
    assert after == before
    assert sample(later, "aivitals_survey_responses_total", {"category": "detractor"}) == 2


class FlakyStore(SQLiteStore):
    """A real SQLite store whose commit fails while ``failing`` is set (the narrowest seam)."""

    failing = False

    def commit(self) -> None:
        if self.failing:
            raise sqlite3.OperationalError("disk I/O error")
        super().commit()


def test_a_failed_commit_answers_503_keeps_nothing_and_a_retry_counts_once(tmp_path: Path) -> None:
    conf = settings(tmp_path)
    store = FlakyStore(conf.store, retention_from(conf))
    with TestClient(create_app(conf, store=store, clock=Clock())) as client:
        failed_commit_then_retry(client, store)


class Failing(Protocol):
    failing: bool


def failed_commit_then_retry(client: Any, store: Failing) -> str:
    """Commits fail while ``store.failing``: the batch and a prediction are 503 and leave nothing; the retry
    counts once and the prediction is unknown to its label. Returns the last /metrics (the PostgreSQL
    suite runs the same steps on its store)."""
    client.post("/v1/surveys", json={"score": 10})
    store.failing = True
    batch = [{"event_id": "e1", "score": 10}, {"event_id": "e2", "score": 0}]
    failed = client.post("/v1/surveys", json=batch)
    prediction = client.post("/v1/predictions", json={"id": "p", "model": "m", "score": 0.5})
    assert client.get("/readyz").status_code == 200  # the store came back at once
    during = client.get("/metrics").text
    store.failing = False
    retried = client.post("/v1/surveys", json=batch)
    again = client.post("/v1/surveys", json=batch)
    label = client.post("/v1/labels", json={"prediction_id": "p", "actual": True})
    after: str = client.get("/metrics").text
    assert failed.status_code == 503 and failed.headers["Retry-After"] == "1"
    assert "retry" in failed.json()["detail"]
    assert prediction.status_code == 503
    assert sample(during, "aivitals_survey_responses_total", {"category": "promoter"}) == 1
    assert sample(during, "aivitals_survey_responses_total", {"category": "detractor"}) is None
    assert retried.json() == {"accepted": 2, "duplicate": 0}
    assert again.json() == {"accepted": 0, "duplicate": 2}
    assert label.status_code == 200
    assert sample(after, "aivitals_survey_responses_total", {"category": "promoter"}) == 2
    assert sample(after, "aivitals_survey_responses_total", {"category": "detractor"}) == 1
    assert sample(after, "aivitals_labels_total", {"model": "other", "result": "unknown"}) == 1
    return after


Reader = Callable[[str, str, dict[str, str]], "float | None"]


def sigkill_under_load(store: Path, config: dict[str, Any], env: dict[str, str] | None = None, batches: int = 60,
                       read: Reader = sample) -> None:
    """Clients keep sending through a SIGKILL of a real sidecar and its restart; every event counts exactly once.

    ``read`` takes one sample from an exposition (a replica on PostgreSQL labels its series ``replica``).
    """
    port = free_port()
    proc = start_sidecar(store, port, config, env)
    threads, per_batch = 4, 5
    acked = [0] * threads
    errors: list[BaseException] = []
    exposure = {"kpi": "signup", "cohort": "control"}

    def exposures() -> float | None:
        return read(get(port, "/metrics")[1].decode(), "aivitals_kpi_exposures_total", exposure)

    def send(worker: int) -> None:
        client = SidecarClient(f"http://127.0.0.1:{port}", retry_for=60.0)
        try:
            for _ in range(batches):
                ack = client.send("exposure", [exposure] * per_batch)
                assert ack["accepted"] + ack["duplicate"] == per_batch
                acked[worker] += per_batch
                time.sleep(0.005)
        except BaseException as exc:
            errors.append(exc)
        finally:
            client.close()

    workers = [threading.Thread(target=send, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    try:
        deadline = time.monotonic() + 60
        while sum(acked) < threads * batches * per_batch // 3 and not errors and time.monotonic() < deadline:
            time.sleep(0.01)
        acked_before_scrape = sum(acked)
        before = exposures()
        stop(proc, signal.SIGKILL)
        proc = start_sidecar(store, port, config, env)
        restarted = exposures()
        for w in workers:
            w.join(120)
        text = get(port, "/metrics")[1].decode()
    finally:
        stop(proc)
    assert not errors, errors
    total = threads * batches * per_batch
    assert sum(acked) == total
    assert before is not None and before >= acked_before_scrape  # acknowledged means counted
    assert restarted is not None and restarted >= before  # no counter reset across the kill
    assert read(text, "aivitals_kpi_exposures_total", exposure) == total  # none lost, none counted twice
    assert read(text, "aivitals_events_total", {"event_kind": "exposure", "result": "accepted"}) == total


@pytest.mark.slow
def test_acknowledged_events_survive_sigkill_and_count_exactly_once(tmp_path: Path) -> None:
    sigkill_under_load(tmp_path / "kill.db", {"kpis": ["signup"]})


class UnreadableStore(SQLiteStore):
    """Commits work, but the scrape-time reads fail."""

    def active_users(self, since: list[float]) -> list[int]:
        raise StoreError("read failed: disk I/O error")


def test_a_scrape_shows_every_counter_when_the_computed_gauges_cannot_be_read(tmp_path: Path) -> None:
    conf = settings(tmp_path)
    with TestClient(create_app(conf, store=UnreadableStore(conf.store, retention_from(conf)), clock=Clock())) as c:
        c.post("/v1/surveys", json={"score": 10})
        c.post("/v1/activity", json={"user": "u1"})
        response = c.get("/metrics")
    assert response.status_code == 200
    assert sample(response.text, "aivitals_survey_responses_total", {"category": "promoter"}) == 1
    assert sample(response.text, "aivitals_active_users", {"window": "1d"}) is None
