"""Where the sidecar's state lives: the SQLite implementation of ``EventStore`` (``store_contract.py``).

Counters are state in the store, written in the same transaction as the events
that moved them, so a restart resumes every series exactly and Prometheus never
sees a counter reset. Only one thread (the group-commit writer) writes; readers
that compute gauges at scrape time use their own connection, which WAL allows.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from .store_contract import EventStore, IncidentRow, PredictionRow, Retention, StoreError, UserRow

#: The contract's names stay importable from here, where the store lived whole.
__all__ = ["EventStore", "IncidentRow", "PredictionRow", "Retention", "SQLiteStore", "StoreError", "UserRow"]


_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS series(key TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS seen(key BLOB NOT NULL UNIQUE, received REAL NOT NULL);
CREATE TABLE IF NOT EXISTS predictions(
    id BLOB NOT NULL UNIQUE, model TEXT NOT NULL, time REAL NOT NULL, received REAL NOT NULL,
    predicted TEXT NOT NULL, positive INTEGER, score REAL, confidence REAL, positive_class TEXT, groups TEXT,
    labelled_at REAL, actual_positive INTEGER);
CREATE INDEX IF NOT EXISTS predictions_labelled ON predictions(labelled_at) WHERE labelled_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS evicted(id BLOB NOT NULL UNIQUE, model TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users(key BLOB PRIMARY KEY, first_seen REAL NOT NULL, last_seen REAL NOT NULL,
    valued_at REAL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS users_last_seen ON users(last_seen);
CREATE TABLE IF NOT EXISTS incidents(id BLOB PRIMARY KEY, severity TEXT NOT NULL, source TEXT NOT NULL,
    occurred REAL, detected REAL, resolved REAL, updated REAL NOT NULL);
"""

#: Keys per ``IN (...)`` query and parameters per multi-row INSERT, under SQLite's limit (32766).
_IN_CHUNK = 500
_MAX_PARAMS = 5000
#: Age-based eviction scans an index; once every few seconds is enough.
_AGE_CHECK_SECONDS = 5.0
#: WAL pages between checkpoints (SQLite's default is 1,000, 4 MiB). Hashed ids land at random places in
#: their unique indexes, so a group of 1,000 events dirties some 2,000 pages: at the default every commit
#: copies all of them back into the database. Checkpointing every 40 MiB copies a page rewritten by
#: several commits once, a fifth less CPU per event (benchmarks/ingest.py); the WAL file grows to about that.
_WAL_CHECKPOINT_PAGES = 10_000
#: The writer's page cache (SQLite's default is 2 MiB): those random index pages are read again and again.
_WRITER_CACHE_KIB = 16 * 1024


@contextlib.contextmanager
def _reading() -> Iterator[None]:
    """Readers raise StoreError, like commits, so callers need not know the database."""
    try:
        yield
    except sqlite3.Error as exc:
        raise StoreError(f"read failed: {exc}") from exc


def _json(value: object) -> str:
    return "true" if value is True else ("false" if value is False else json.dumps(value))


def _dumps(value: object) -> str | None:
    return None if value is None else _json(value)


def _prefixed(raw: str, hash_id: Callable[[str], bytes]) -> bytes:
    """``kind:id`` with its id hashed, the kind kept (an incident's source, ``e`` for event ids)."""
    kind, colon, value = raw.partition(":")
    return (kind + colon).encode("ascii") + hash_id(value)


def _unhexed(value: object) -> object:
    """A hex digest, ``kind:`` before it or not, as bytes; anything else as it is."""
    if not isinstance(value, str):
        return value
    kind, colon, digest = value.rpartition(":")
    return (kind + colon).encode("ascii") + bytes.fromhex(digest)


class SQLiteStore:
    """SQLite in WAL mode with ``synchronous=FULL``: a commit is on disk when it returns."""

    def __init__(self, path: str | Path, retention: Retention) -> None:
        self.path = Path(path)
        self.retention = retention
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():
            # the store holds keyed hashes of user keys and ids: readable by its owner only
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        self._db = self._connect()
        self._db.execute(f"PRAGMA cache_size=-{_WRITER_CACHE_KIB}")
        self._db.executescript(_SCHEMA)
        self._reader = self._connect()
        self._reader.execute("PRAGMA query_only=ON")
        self._reader_lock = threading.Lock()
        self._counts: dict[str, int] = {}
        self._recount()
        self._next_age_check = 0.0

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30.0)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute(f"PRAGMA wal_autocheckpoint={_WAL_CHECKPOINT_PAGES}")
        return db

    def _recount(self) -> None:
        for table in ("predictions", "users", "seen", "evicted"):
            self._counts[table] = self._db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]

    # --- transactions -------------------------------------------------------------------
    def begin(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    @contextlib.contextmanager
    def isolated(self) -> Iterator[None]:
        """One request inside the group's transaction: an exception from it undoes its writes only.

        The store's own failures become StoreError and fail the whole group (the
        transaction may be gone); any other exception rolls back to the savepoint
        and propagates, so the other requests of the group still commit.
        """
        self._db.execute("SAVEPOINT request")
        try:
            yield
        except sqlite3.Error as exc:
            raise StoreError(f"write failed: {exc}") from exc
        except BaseException:
            self._db.execute("ROLLBACK TO request")
            self._db.execute("RELEASE request")
            self._recount()
            raise
        self._db.execute("RELEASE request")

    def commit(self) -> None:
        try:
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise StoreError(f"commit failed: {exc}") from exc

    def rollback(self) -> None:
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")
        self._recount()

    def close(self) -> None:
        with self._reader_lock:
            self._reader.close()
        self._db.close()

    # --- meta and series -------------------------------------------------------------------
    def get_meta(self, key: str) -> bytes | None:
        row = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else bytes(row[0])

    def read_meta(self, key: str) -> bytes | None:
        """``get_meta`` for readers outside the writer thread (scrapes, GET endpoints): the committed value."""
        with self._reader_lock, _reading():
            row = self._reader.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else bytes(row[0])

    def put_meta(self, key: str, value: bytes) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    def delete_meta(self, key: str) -> None:
        """Delete, overwriting the old bytes too (the legacy hashing key must not linger in a free page)."""
        self._db.execute("PRAGMA secure_delete=ON")
        self._db.execute("DELETE FROM meta WHERE key=?", (key,))

    def scrub(self) -> None:
        """After a commit that removed secrets or raw ids: stop overwriting deleted bytes, empty the WAL."""
        self._db.execute("PRAGMA secure_delete=OFF")
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def hash_ids(self, hash_id: Callable[[str], bytes]) -> None:
        """Replace every stored raw id by its keyed hash (stores written before ids were hashed)."""
        self._db.execute("PRAGMA secure_delete=ON")
        self._rewrite_ids(lambda raw: hash_id(raw) if isinstance(raw, str) else raw,
                          lambda raw: _prefixed(raw, hash_id) if isinstance(raw, str) else raw)

    def binary_ids(self) -> None:
        """Turn ids stored as hex text (written before ids were bytes) into the same digests as bytes.

        Half the bytes and a bytewise compare: the unique indexes on ids take most of ingest's
        page writes, since hashed ids arrive in random order. A value already bytes is kept.
        """
        self._rewrite_ids(_unhexed, _unhexed)

    def _rewrite_ids(self, plain: Callable[[Any], Any], prefixed: Callable[[Any], Any]) -> None:
        """Rewrite every id column in place, ``prefixed`` for ids that start with their kind (``e:``, ``api:``)."""
        for name, rewrite in (("aivitals_plain_id", plain), ("aivitals_prefixed_id", prefixed)):
            self._db.create_function(name, 1, rewrite, deterministic=True)
        try:
            self._db.execute("UPDATE predictions SET id = aivitals_plain_id(id) WHERE typeof(id) = 'text'")
            self._db.execute("UPDATE evicted SET id = aivitals_plain_id(id) WHERE typeof(id) = 'text'")
            self._db.execute("UPDATE seen SET key = aivitals_prefixed_id(key) WHERE typeof(key) = 'text'")
            self._db.execute("UPDATE incidents SET id = aivitals_prefixed_id(id) WHERE typeof(id) = 'text'")
        finally:
            for name in ("aivitals_plain_id", "aivitals_prefixed_id"):
                self._db.create_function(name, 1, None)

    def load_series(self) -> dict[str, list[float]]:
        return {key: json.loads(data) for key, data in self._db.execute("SELECT key, data FROM series")}

    def save_series(self, series: dict[str, list[float]]) -> None:
        self._db.executemany("INSERT OR REPLACE INTO series(key, data) VALUES (?, ?)",
                             [(key, json.dumps(values)) for key, values in series.items()])

    # --- events -----------------------------------------------------------------------------
    def _insert_new(self, table: str, columns: str, rows: Sequence[tuple[Any, ...]]) -> set[Any]:
        """INSERT OR IGNORE in chunks; the first column's values of the rows that went in."""
        inserted: set[Any] = set()
        if not rows:
            return inserted
        width = len(rows[0])
        per = max(1, _MAX_PARAMS // width)
        one = "(" + ",".join("?" * width) + ")"
        for i in range(0, len(rows), per):
            chunk = rows[i:i + per]
            sql = (f"INSERT OR IGNORE INTO {table}({columns}) VALUES {','.join([one] * len(chunk))}"
                   f" RETURNING {columns.split(',', 1)[0]}")
            inserted.update(k for (k,) in self._db.execute(sql, [v for row in chunk for v in row]))
        self._counts[table] += len(inserted)
        return inserted

    def claim(self, keys: Sequence[bytes], received: float) -> set[bytes]:
        """Record event ids; returns those not seen before (each once, however often it repeats)."""
        return self._insert_new("seen", "key,received", [(k, received) for k in keys])

    def seen(self, keys: Sequence[bytes]) -> set[bytes]:
        """The event ids among ``keys`` already claimed and committed; read-only, on the reader connection."""
        found: set[bytes] = set()
        with self._reader_lock, _reading():
            for i in range(0, len(keys), _IN_CHUNK):
                chunk = keys[i:i + _IN_CHUNK]
                marks = ",".join("?" * len(chunk))
                found.update(bytes(k) for (k,) in self._reader.execute(
                    f"SELECT key FROM seen WHERE key IN ({marks})", chunk))
        return found

    def add_predictions(self, rows: Sequence[PredictionRow]) -> list[bool]:
        """Store predictions; False for an id already stored (or earlier in ``rows``)."""
        inserted = self._insert_new(
            "predictions", "id,model,time,received,predicted,positive,score,confidence,positive_class,groups",
            [(r.id, r.model, r.time, r.received, _json(r.predicted), None if r.positive is None else int(r.positive),
              r.score, r.confidence, _dumps(r.positive_class), json.dumps(r.groups) if r.groups else None)
             for r in rows])
        fresh = []
        for r in rows:
            fresh.append(r.id in inserted)
            inserted.discard(r.id)  # a repeat of the id later in rows is a duplicate
        return fresh

    def get_prediction(self, prediction_id: bytes) -> PredictionRow | None:
        row = self._db.execute(
            "SELECT model, time, received, predicted, positive, score, confidence, positive_class, groups,"
            " labelled_at FROM predictions WHERE id=?", (prediction_id,)).fetchone()
        if row is None:
            return None
        model, t, received, predicted, positive, score, confidence, positive_class, groups, labelled_at = row
        return PredictionRow(
            prediction_id, model, t, received, json.loads(predicted), None if positive is None else bool(positive),
            score, confidence, None if positive_class is None else json.loads(positive_class),
            json.loads(groups) if groups else {}, labelled_at is not None)

    def evicted_model(self, prediction_id: bytes) -> str | None:
        row = self._db.execute("SELECT model FROM evicted WHERE id=?", (prediction_id,)).fetchone()
        return None if row is None else str(row[0])

    def label_prediction(self, prediction_id: bytes, labelled_at: float, actual_positive: bool | None) -> None:
        self._db.execute("UPDATE predictions SET labelled_at=?, actual_positive=? WHERE id=?",
                         (labelled_at, None if actual_positive is None else int(actual_positive), prediction_id))

    def get_users(self, keys: Sequence[bytes]) -> dict[bytes, UserRow]:
        found: dict[bytes, UserRow] = {}
        for i in range(0, len(keys), _IN_CHUNK):
            chunk = keys[i:i + _IN_CHUNK]
            marks = ",".join("?" * len(chunk))
            for key, first, last, valued in self._db.execute(
                    f"SELECT key, first_seen, last_seen, valued_at FROM users WHERE key IN ({marks})", chunk):
                found[bytes(key)] = UserRow(bytes(key), first, last, valued)
        return found

    def put_users(self, rows: Sequence[UserRow], new: int) -> None:
        """Insert or update users; ``new`` of them were not stored before."""
        self._db.executemany(
            "INSERT OR REPLACE INTO users(key, first_seen, last_seen, valued_at) VALUES (?, ?, ?, ?)",
            [(r.key, r.first_seen, r.last_seen, r.valued_at) for r in rows])
        self._counts["users"] += new

    def get_incident(self, incident_id: bytes) -> IncidentRow | None:
        row = self._db.execute("SELECT severity, source, occurred, detected, resolved, updated FROM incidents"
                               " WHERE id=?", (incident_id,)).fetchone()
        return None if row is None else IncidentRow(incident_id, *row)

    def put_incident(self, row: IncidentRow) -> None:
        self._db.execute("INSERT OR REPLACE INTO incidents(id, severity, source, occurred, detected, resolved,"
                         " updated) VALUES (?, ?, ?, ?, ?, ?, ?)",
                         (row.id, row.severity, row.source, row.occurred, row.detected, row.resolved, row.updated))

    def delete_incident(self, incident_id: bytes) -> None:
        self._db.execute("DELETE FROM incidents WHERE id=?", (incident_id,))

    # --- retention ----------------------------------------------------------------------------
    def evict(self, now: float) -> dict[str, int]:
        """Drop surplus and expired predictions, user keys and event ids; counts of what went."""
        r = self.retention
        evicted = {"prediction": 0, "activity": 0}
        age_check = now >= self._next_age_check
        if age_check:
            self._next_age_check = now + _AGE_CHECK_SECONDS
        surplus = self._counts["predictions"] - r.prediction_max_count
        if surplus > 0:
            evicted["prediction"] += self._evict_predictions(
                "rowid IN (SELECT rowid FROM predictions ORDER BY rowid LIMIT ?)", surplus)
        if age_check:
            evicted["prediction"] += self._evict_predictions(
                "rowid < ?", self._first_rowid_since("predictions", now - r.prediction_max_age_seconds))
        surplus = self._counts["users"] - r.user_max_count
        if surplus > 0:
            evicted["activity"] += self._delete(
                "users", "key IN (SELECT key FROM users ORDER BY last_seen LIMIT ?)", surplus)
        if age_check:
            evicted["activity"] += self._delete("users", "last_seen < ?", now - r.user_max_age_seconds)
        surplus = self._counts["seen"] - r.dedup_max_count
        if surplus > 0:
            self._delete("seen", "rowid IN (SELECT rowid FROM seen ORDER BY rowid LIMIT ?)", surplus)
        if age_check:
            self._delete("seen", "rowid < ?", self._first_rowid_since("seen", now - r.dedup_max_age_seconds))
            self._db.execute("DELETE FROM incidents WHERE resolved IS NOT NULL AND updated < ?",
                             (now - r.incident_max_age_seconds,))
        return evicted

    def _first_rowid_since(self, table: str, cutoff: float) -> int:
        """The first rowid received at or after ``cutoff``: rows are appended in receipt order,
        so a binary search over rowids replaces an index on ``received`` that every insert would pay for."""
        lo, hi = self._db.execute(f"SELECT min(rowid), max(rowid) FROM {table}").fetchone()
        if lo is None:
            return 0
        hi += 1
        while lo < hi:
            mid = (lo + hi) // 2
            row = self._db.execute(f"SELECT rowid, received FROM {table} WHERE rowid >= ? ORDER BY rowid LIMIT 1",
                                   (mid,)).fetchone()
            if row is None or row[1] >= cutoff:
                hi = mid
            else:
                lo = row[0] + 1
        return int(lo)

    def _evict_predictions(self, where: str, arg: float) -> int:
        # remember what was evicted, so a late label is counted as expired rather than unknown
        cur = self._db.execute(
            f"INSERT OR REPLACE INTO evicted(id, model) SELECT id, model FROM predictions WHERE {where}", (arg,))
        self._counts["evicted"] += cur.rowcount  # a replaced id counts twice: the trim below errs on the safe side
        surplus = self._counts["evicted"] - self.retention.prediction_max_count
        if surplus > 0:
            self._delete("evicted", "rowid IN (SELECT rowid FROM evicted ORDER BY rowid LIMIT ?)", surplus)
        return self._delete("predictions", where, arg)

    def _delete(self, table: str, where: str, arg: float) -> int:
        n = self._db.execute(f"DELETE FROM {table} WHERE {where}", (arg,)).rowcount
        self._counts[table] -= n
        return int(n)

    # --- readers (any thread) ----------------------------------------------------------------
    def labelled_scores(self, since: float) -> list[tuple[str, float, int, float]]:
        """(model, score, actual positive, labelled at) of binary predictions labelled since ``since``."""
        with self._reader_lock, _reading():
            return self._reader.execute(
                "SELECT model, score, actual_positive, labelled_at FROM predictions WHERE labelled_at >= ?"
                " AND score IS NOT NULL AND actual_positive IS NOT NULL", (since,)).fetchall()

    def active_users(self, since: list[float]) -> list[int]:
        """Distinct users last seen at or after each cut-off."""
        with self._reader_lock, _reading():
            return [self._reader.execute("SELECT count(*) FROM users WHERE last_seen >= ?", (cut,)).fetchone()[0]
                    for cut in since]

    def counts(self) -> dict[str, int]:
        """Rows held now, by table (for tests and the benchmark)."""
        return dict(self._counts)
