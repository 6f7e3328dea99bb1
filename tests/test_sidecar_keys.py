"""The hashing key lives outside the store; ids (emails included) are stored only as keyed hashes."""

from __future__ import annotations

import base64
import json
import logging
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from _sidecar import NOW, SRC, Clock, metrics, post, sample, settings
from aivitals.sidecar import create_app
from aivitals.sidecar.app import retention_from
from aivitals.sidecar.keys import KEY_ENV, user_hasher
from aivitals.sidecar.settings import SettingsError
from aivitals.sidecar.store import PredictionRow, SQLiteStore, UserRow

EMAIL = "jane.doe@example.com"


def stored_bytes(tmp_path: Path) -> bytes:
    """Everything SQLite wrote: the database, its WAL and shared memory."""
    return b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("sidecar.db")
                    and not p.name.endswith(".key"))


def test_a_first_start_generates_a_key_file_outside_the_store_and_warns(tmp_path: Path,
                                                                        caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING), TestClient(create_app(settings(tmp_path), clock=Clock())) as client:
        post(client, "/v1/activity", {"user": "u1"})
    key_file = tmp_path / "sidecar.db.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert "generated" in caplog.text and KEY_ENV in caplog.text
    key = key_file.read_text().strip()
    assert len(key) >= 40 and key.encode() not in stored_bytes(tmp_path)
    with sqlite3.connect(tmp_path / "sidecar.db") as db:
        assert db.execute("SELECT count(*) FROM meta WHERE key = 'user_key_secret'").fetchone() == (0,)
        (digest,) = db.execute("SELECT key FROM users").fetchone()
    assert digest == user_hasher(key.encode())("u1")


def test_ids_that_are_email_addresses_are_stored_only_as_keyed_hashes_and_still_join(tmp_path: Path) -> None:
    with TestClient(create_app(settings(tmp_path), clock=Clock())) as client:
        post(client, "/v1/predictions", {"id": EMAIL, "model": "churn", "predicted": True, "event_id": EMAIL})
        assert post(client, "/v1/labels", {"prediction_id": EMAIL, "actual": True, "event_id": "l-" + EMAIL}) == {
            "accepted": 1, "duplicate": 0}
        assert post(client, "/v1/labels", {"prediction_id": EMAIL, "actual": True, "event_id": "l-" + EMAIL}) == {
            "accepted": 0, "duplicate": 1}
        post(client, "/v1/incidents", {"id": EMAIL, "severity": "high", "occurred_at": NOW - 60})
        post(client, "/v1/incidents", {"id": EMAIL, "severity": "high", "resolved_at": NOW})
        post(client, "/v1/alertmanager", {"version": "4", "alerts": [
            {"status": "firing", "fingerprint": EMAIL, "startsAt": NOW - 30}]})
        text = metrics(client)
    assert sample(text, "aivitals_confusion_total", {"model": "churn", "class_outcome": "tp"}) == 1
    assert sample(text, "aivitals_incident_time_to_resolve_seconds_count", {"severity": "high"}) == 1
    assert EMAIL.encode() not in stored_bytes(tmp_path)
    assert b"jane.doe" not in stored_bytes(tmp_path)


def test_a_key_from_the_environment_setting_is_used_and_no_file_is_written(tmp_path: Path) -> None:
    key = "k" * 24
    with TestClient(create_app(settings(tmp_path, user_key_secret=key), clock=Clock())) as client:
        post(client, "/v1/activity", {"user": "u1"})
    assert not (tmp_path / "sidecar.db.key").exists()
    with sqlite3.connect(tmp_path / "sidecar.db") as db:
        (digest,) = db.execute("SELECT key FROM users").fetchone()
    assert digest == user_hasher(key.encode())("u1")


def test_a_different_or_missing_key_for_a_used_store_is_refused_naming_the_fix(tmp_path: Path) -> None:
    with TestClient(create_app(settings(tmp_path, user_key_secret="a" * 20), clock=Clock())) as client:
        post(client, "/v1/activity", {"user": "u1"})
    with pytest.raises(SettingsError, match="not the one the store"):
        create_app(settings(tmp_path, user_key_secret="b" * 20), clock=Clock())
    with pytest.raises(SettingsError, match="missing: restore"):
        create_app(settings(tmp_path), clock=Clock())
    assert not (tmp_path / "sidecar.db.key").exists()  # a new key was not made up for a used store


def test_serve_with_the_wrong_key_exits_2_with_one_line(tmp_path: Path) -> None:
    store = tmp_path / "sidecar.db"
    with TestClient(create_app(settings(tmp_path, user_key_secret="a" * 20), clock=Clock())):
        pass
    env = {**os.environ, "PYTHONPATH": str(SRC), KEY_ENV: "b" * 20}
    done = subprocess.run([sys.executable, "-m", "aivitals.sidecar", "--store", str(store), "--port", "0"],
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "start a new store" in done.stderr


def test_a_store_that_kept_its_key_inside_is_migrated_and_its_hashes_still_match(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    conf = settings(tmp_path)
    legacy = os.urandom(32)
    old = SQLiteStore(conf.store, retention_from(conf))  # written as the sidecar did before the key moved out
    old.begin()
    old.put_meta("user_key_secret", legacy)
    old.put_users([UserRow(user_hasher(legacy)("u1"), NOW - 60, NOW - 60, None)], 1)
    old.add_predictions([PredictionRow(EMAIL, "churn", NOW - 60, NOW - 60, True, True, None, None, None, {})])
    old.commit()
    old.close()
    with caplog.at_level(logging.WARNING), TestClient(create_app(conf, clock=Clock())) as client:
        post(client, "/v1/activity", {"user": "u1"})
        post(client, "/v1/labels", {"prediction_id": EMAIL, "actual": False})
        text = metrics(client)
    assert "moved the hashing key out of the store" in caplog.text
    assert sample(text, "aivitals_active_users", {"window": "1d"}) == 1  # the same user, not a new one
    assert sample(text, "aivitals_confusion_total", {"model": "churn", "class_outcome": "fp"}) == 1
    key_text = (tmp_path / "sidecar.db.key").read_text().strip()
    assert base64.b64decode(key_text.removeprefix("base64:")) == legacy
    assert legacy not in stored_bytes(tmp_path) and EMAIL.encode() not in stored_bytes(tmp_path)


# --- stores written while ids were hex text (tests/fixtures/sidecar_hex_ids, made by its make.py) -------------
FIXTURE = Path(__file__).parent / "fixtures" / "sidecar_hex_ids"
SPEC = json.loads((FIXTURE / "events.json").read_text())
SENT = dict((path, body) for path, body in SPEC["requests"])
ID_COLUMNS = (("predictions", "id"), ("evicted", "id"), ("seen", "key"), ("incidents", "id"))


def old_ids(rows: list[tuple[str, str, str]]) -> dict[tuple[str, str], set[bytes]]:
    """(table, column) -> its ids as a hex-text store held them, turned into bytes by hand."""
    found: dict[tuple[str, str], set[bytes]] = {}
    for table, column, value in rows:
        kind, colon, digest = value.rpartition(":")
        found.setdefault((table, column), set()).add((kind + colon).encode() + bytes.fromhex(digest))
    return found


def retry_after_upgrade(client: TestClient) -> str:
    """Every event acknowledged before the upgrade, sent again, is a duplicate; what was stored still joins."""
    now = SPEC["now"]
    retried = {"/v1/predictions": SENT["/v1/predictions"][2:]}  # 0 and 1 were evicted (prediction_max_count 3)
    for path, body in SPEC["requests"]:
        body = retried.get(path, body)
        events = len(body) if isinstance(body, list) else len(body.get("alerts", [body]))
        assert post(client, path, body) == {"accepted": 0, "duplicate": events}, path
    assert post(client, "/v1/labels", {"prediction_id": SENT["/v1/predictions"][0]["id"], "actual": True}) == {
        "accepted": 1, "duplicate": 0}  # evicted before the upgrade: counted as expired, not unknown
    post(client, "/v1/labels", {"prediction_id": SENT["/v1/predictions"][3]["id"], "actual": True})
    post(client, "/v1/activity", {"event_id": "activity-2", "user": SENT["/v1/activity"]["user"]})
    post(client, "/v1/incidents", {"id": SENT["/v1/incidents"]["id"], "severity": "high", "resolved_at": now})
    post(client, "/v1/alertmanager", {"version": "4", "alerts": [
        {"status": "resolved", "fingerprint": SENT["/v1/alertmanager"]["alerts"][0]["fingerprint"],
         "startsAt": now - 100, "endsAt": now}]})
    text = metrics(client)
    for (name, labels), value in {
            ("aivitals_labels_total", (("model", "churn"), ("result", "expired"))): 1,
            ("aivitals_labels_total", (("model", "churn"), ("result", "joined"))): 2,
            ("aivitals_confusion_total", (("model", "churn"), ("class_outcome", "tp"))): 1,
            ("aivitals_active_users", (("window", "1d"),)): 1,  # the same user as before the upgrade
            ("aivitals_survey_responses_total", (("category", "promoter"),)): 1,
            ("aivitals_incident_time_to_resolve_seconds_count", (("severity", "high"),)): 1,
            ("aivitals_incidents_open", (("severity", "high"),)): 0}.items():
        assert sample(text, name, dict(labels)) == value, (name, labels)
    assert sum(sample(text, "aivitals_incidents_open", {"severity": s}) or 0 for s in ("low", "medium", "high",
                                                                                          "critical")) == 0
    return text


def hex_store_settings(tmp_path: Path, **overrides: Any) -> Any:
    return settings(tmp_path, **SPEC["settings"], **overrides)


def test_a_store_written_with_hex_ids_is_converted_at_start_and_its_events_stay_duplicates(tmp_path: Path) -> None:
    shutil.copyfile(FIXTURE / "sidecar.db", tmp_path / "sidecar.db")
    with sqlite3.connect(tmp_path / "sidecar.db") as db:
        before = old_ids([(t, c, v) for t, c in ID_COLUMNS for (v,) in db.execute(f"SELECT {c} FROM {t}")])
        assert db.execute("SELECT value FROM meta WHERE key = 'ids_hashed'").fetchone() == (b"1",)
    assert sum(map(len, before.values())) == 12 and b"jane.doe" not in stored_bytes(tmp_path)
    conf = hex_store_settings(tmp_path)
    with TestClient(create_app(conf, clock=Clock(SPEC["now"] + 60))) as client:
        retry_after_upgrade(client)
    with TestClient(create_app(conf, clock=Clock(SPEC["now"] + 120))) as client:  # a second start changes nothing
        assert post(client, "/v1/labels", SENT["/v1/labels"]) == {"accepted": 0, "duplicate": 1}
    with sqlite3.connect(tmp_path / "sidecar.db") as db:
        assert db.execute("SELECT value FROM meta WHERE key = 'ids_hashed'").fetchone() == (b"2",)
        for table, column in ID_COLUMNS:
            kinds = {k for (k,) in db.execute(f"SELECT DISTINCT typeof({column}) FROM {table}")}
            assert kinds == {"blob"}, (table, kinds)
            after = {bytes(v) for (v,) in db.execute(f"SELECT {column} FROM {table}")}
            assert before[table, column] <= after, table  # the same digests, as bytes
    assert b"jane.doe" not in stored_bytes(tmp_path)


class FailingMigration(SQLiteStore):
    """A real SQLite store that fails once its ids were converted, before the marker is written (the seam)."""

    def put_meta(self, key: str, value: bytes) -> None:
        if key == "ids_hashed":
            raise sqlite3.OperationalError("disk I/O error")
        super().put_meta(key, value)


def test_a_conversion_that_fails_half_way_leaves_the_store_as_it_was_and_the_next_start_converts_it(
        tmp_path: Path) -> None:
    shutil.copyfile(FIXTURE / "sidecar.db", tmp_path / "sidecar.db")
    conf = hex_store_settings(tmp_path)
    with pytest.raises(sqlite3.OperationalError):
        create_app(conf, store=FailingMigration(conf.store, retention_from(conf)), clock=Clock())
    with sqlite3.connect(tmp_path / "sidecar.db") as db:
        assert db.execute("SELECT value FROM meta WHERE key = 'ids_hashed'").fetchone() == (b"1",)
        assert {k for t, c in ID_COLUMNS for (k,) in db.execute(f"SELECT DISTINCT typeof({c}) FROM {t}")} == {"text"}
        assert db.execute("SELECT count(*) FROM seen").fetchone() == (5,)
    with TestClient(create_app(conf, clock=Clock(SPEC["now"] + 60))) as client:
        retry_after_upgrade(client)


def test_a_postgresql_database_written_with_hex_ids_is_converted_at_start(tmp_path: Path, pg_url: str) -> None:
    from _postgres import PG_BIN
    from aivitals.sidecar.postgres_setup import connect
    from test_sidecar_postgres_suite import ReplicaClient

    assert PG_BIN is not None
    subprocess.run([str(PG_BIN / "psql"), "-q", "-v", "ON_ERROR_STOP=1", "-f", str(FIXTURE / "postgres.sql"), pg_url],
                   check=True, capture_output=True)
    with connect(pg_url) as db:
        before = old_ids([(t, c, v) for t, c in ID_COLUMNS for (v,) in db.execute(f"SELECT {c} FROM {t}")])
    assert sum(map(len, before.values())) == 12
    conf = hex_store_settings(tmp_path, store_url=pg_url, replica_id="replica-0")
    with ReplicaClient(create_app(conf, clock=Clock(SPEC["now"] + 60))) as client:
        retry_after_upgrade(client)
    with ReplicaClient(create_app(conf, clock=Clock(SPEC["now"] + 120))) as client:
        assert post(client, "/v1/labels", SENT["/v1/labels"]) == {"accepted": 0, "duplicate": 1}
    with connect(pg_url) as db:
        meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
        assert (bytes(meta["ids_hashed"]), bytes(meta["schema_version"])) == (b"2", b"2")
        for table, column in ID_COLUMNS:
            (kind,) = db.execute("SELECT data_type FROM information_schema.columns WHERE table_name=%s"
                                 " AND column_name=%s", (table, column)).fetchone() or ("missing",)
            assert kind == "bytea", table
            after = {bytes(v) for (v,) in db.execute(f"SELECT {column} FROM {table}")}
            assert before[table, column] <= after and not any(b"jane" in v for v in after), table


def test_the_ingest_benchmarks_store_phase_runs_small_and_its_hashed_stores_hold_no_raw_id(tmp_path: Path) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    try:
        import ingest
    finally:
        sys.path.pop(0)
    result = ingest.store_phase(tmp_path, 4000)
    assert result["store_events"] == 4000 and result["store_hashed_over_raw_cpu"] > 0
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("store-raw-*.db*"))
    hashed = b"".join(p.read_bytes() for p in tmp_path.glob("store-hashed-*.db*"))
    assert raw.count(b"user-") >= 100  # the check below can see a raw id
    assert b"user-" not in hashed
