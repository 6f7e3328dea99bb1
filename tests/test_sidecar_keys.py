"""The hashing key lives outside the store; ids (emails included) are stored only as keyed hashes."""

from __future__ import annotations

import base64
import logging
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

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
