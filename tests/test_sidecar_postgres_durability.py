"""The durability and schemathesis suites again, on a real PostgreSQL store instead of SQLite.

A 2xx means committed there too: counters resume exactly after a restart, a failed commit
keeps nothing (the commit really fails: the seam terminates the writer's server session just
before it, so the store also has to reconnect), acknowledged events survive a SIGKILL of a
real sidecar process, a scrape shows every counter when the computed gauges cannot be read,
and the API conforms to its own OpenAPI document. The SQLite-only details of the originals
(a SQLiteStore subclass raising sqlite3 errors, the ``--store`` file) are replaced by their
PostgreSQL equivalents here. ``/metrics`` goes through the PostgreSQL suite's ReplicaClient,
which checks the ``replica`` label and then drops it, so the assertions read as the originals.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.python.asgi import ASGIClient, get_client

from _postgres import PostgresServer
from _sidecar import Clock, sample, settings
from aivitals.sidecar import Settings, StoreError, create_app
from aivitals.sidecar.app import retention_from
from test_sidecar_durability import EVENTS, aivitals_samples, failed_commit_then_retry, sigkill_under_load
from test_sidecar_postgres_suite import KEY, REPLICA, ReplicaClient
from test_sidecar_schemathesis import CHECKS

psycopg = pytest.importorskip("psycopg", reason="psycopg is missing: pip install 'aivitals[postgres]'")

def pg_settings(tmp_path: Path, url: str, **overrides: Any) -> Settings:
    return settings(tmp_path, store_url=url, user_key_secret=KEY, replica_id=REPLICA, **overrides)


def test_every_series_resumes_exactly_after_a_restart(tmp_path: Path, pg_url: str) -> None:
    clock = Clock()
    with ReplicaClient(create_app(pg_settings(tmp_path, pg_url), clock=clock)) as client:
        for path, body in EVENTS:
            assert client.post(path, json=body).status_code == 200
        before = aivitals_samples(client.get("/metrics").text)
    with ReplicaClient(create_app(pg_settings(tmp_path, pg_url), clock=clock)) as client:
        after = aivitals_samples(client.get("/metrics").text)
        client.post("/v1/surveys", json={"score": 4})
        later = client.get("/metrics").text
    assert len(before) > 100
    assert after == before
    assert sample(later, "aivitals_survey_responses_total", {"category": "detractor"}) == 2


from aivitals.sidecar.postgres import PostgresStore  # noqa: E402  (needs psycopg)


class CommitKilledStore(PostgresStore):
    """A real PostgreSQL store; while ``failing`` is set, its writer's server session is terminated
    just before COMMIT, so the commit itself fails (the narrowest seam: it only picks the moment)."""

    failing = False

    def commit(self) -> None:
        if self.failing:
            with psycopg.connect(self.url, autocommit=True) as admin:
                killed = admin.execute("SELECT pg_terminate_backend(%s, 5000)",
                                       (self._writer().info.backend_pid,)).fetchone()
            assert killed == (True,)
        super().commit()


def test_a_failed_commit_answers_503_keeps_nothing_and_a_retry_counts_once(tmp_path: Path, pg_url: str) -> None:
    conf = pg_settings(tmp_path, pg_url)
    store = CommitKilledStore(pg_url, retention_from(conf), REPLICA)
    with ReplicaClient(create_app(conf, store=store, clock=Clock())) as client:
        after = failed_commit_then_retry(client, store)
    # nothing of the failed commits reached the database either: a fresh replica reads the same
    with ReplicaClient(create_app(conf, clock=Clock())) as fresh:
        assert aivitals_samples(fresh.get("/metrics").text) == aivitals_samples(after)


def _replica_sample(text: str, name: str, labels: dict[str, str]) -> float | None:
    """One sample of this replica's (or the leader's) exposition, ``replica`` label or not."""
    return sample(text, name, {**labels, "replica": REPLICA}) or sample(text, name, labels)


@pytest.mark.slow
def test_acknowledged_events_survive_sigkill_and_count_exactly_once(tmp_path: Path, pg_url: str) -> None:
    """The SQLite suite's SIGKILL test on a PostgreSQL store (800 events, to stay quick)."""
    config = {"kpis": ["signup"], "store_url": pg_url, "replica_id": REPLICA}
    # start_sidecar passes --store; the config's store_url wins
    sigkill_under_load(tmp_path / "unused.db", config, {"AIVITALS_USER_KEY_SECRET": KEY}, batches=40,
                       read=_replica_sample)


class UnreadablePostgresStore(PostgresStore):
    """Commits work, but the scrape-time reads fail."""

    def active_users(self, since: list[float]) -> list[int]:
        raise StoreError("read failed: connection lost")


def test_a_scrape_shows_every_counter_when_the_computed_gauges_cannot_be_read(tmp_path: Path, pg_url: str) -> None:
    conf = pg_settings(tmp_path, pg_url)
    store = UnreadablePostgresStore(pg_url, retention_from(conf), REPLICA)
    with ReplicaClient(create_app(conf, store=store, clock=Clock())) as c:
        c.post("/v1/surveys", json={"score": 10})
        c.post("/v1/activity", json={"user": "u1"})
        response = c.get("/metrics")
    assert response.status_code == 200
    assert sample(response.text, "aivitals_survey_responses_total", {"category": "promoter"}) == 1
    assert sample(response.text, "aivitals_active_users", {"window": "1d"}) is None


# schemathesis needs the schema when tests are collected, before any PostgreSQL runs, so it is read
# from an app on SQLite (its OpenAPI document is checked equal to the PostgreSQL app's below) and
# every case is sent to the PostgreSQL app (schemathesis' from_fixture fails under pytest 9).
_SCHEMA_STORE = tempfile.TemporaryDirectory(prefix="aivitals-schemathesis-pg-")
_schema_app = create_app(settings(Path(_SCHEMA_STORE.name)))
schema = schemathesis.openapi.from_asgi("/openapi.json", _schema_app)


@pytest.fixture(scope="module")
def postgres_api(postgres_server: PostgresServer) -> Iterator[ASGIClient]:
    """The sidecar on a fresh PostgreSQL database, its lifespan (lease, store) running for the module."""
    _schema_app.state.sidecar.close()
    with tempfile.TemporaryDirectory(prefix="aivitals-schemathesis-pg-") as tmp:
        url = postgres_server.new_database()
        app = create_app(pg_settings(Path(tmp), url, derived_refresh_seconds=1.0))
        assert app.openapi() == _schema_app.openapi()
        with get_client(app) as client:
            yield client
    with psycopg.connect(url) as db:  # the cases were committed there, not to the SQLite app
        stored = db.execute("SELECT (SELECT count(*) FROM predictions) + (SELECT count(*) FROM users)"
                            " + (SELECT count(*) FROM seen) + (SELECT count(*) FROM incidents)").fetchone()
    assert stored is not None and stored[0] > 0, stored
    _SCHEMA_STORE.cleanup()


@schema.parametrize()
@hypothesis_settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_conforms_to_its_own_openapi_document(case: schemathesis.Case, postgres_api: ASGIClient) -> None:
    case.call_and_validate(checks=CHECKS, session=postgres_api)
