"""The ``EventStore`` on PostgreSQL: several sidecar replicas share one database.

The semantics are SQLite's (store.py): a group's events and the counters they moved
commit in one transaction, so a 2xx still means committed. What changes is that
other replicas write concurrently, so every read that decides a count locks what
it read until the commit:

- an event id is claimed by a unique insert (``ON CONFLICT DO NOTHING``): the same id
  sent to two replicas at once goes in once, the second insert waits for the first
  transaction and then finds it; a stored prediction id works the same way;
- a prediction being labelled and an incident being updated are read ``FOR UPDATE``;
  an incident or meta key not there yet is guarded by a transaction advisory lock on
  its key, so two replicas cannot both open it;
- users are claimed with a placeholder row (first seen at +inf) inserted before the
  ``FOR UPDATE`` read: a user new to both replicas at once is new to exactly one.

Each replica keeps its own counter series (``series`` keyed by replica id) and its
own share of the row counts (``row_counts``), so replicas never update a common
row and never wait for each other except over the same event. Retention bounds are
checked against the committed counts plus this transaction's: they hold after each
commit to within the inserts other replicas commit at the same moment. Connecting and
creating the tables is ``postgres_setup.py``'s.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import psycopg

from .postgres_setup import (
    LOCK_SPACE,
    SCHEMA_VERSION,
    STARTUP_LOCK,
    connect,
    create_schema,
    failing_as_store_error,
    is_postgres_url,
    redacted,
)
from .store_contract import IncidentRow, PredictionRow, Retention, StoreError, UserRow

#: The connection helpers stay importable from here, where the store lived whole.
__all__ = ["LOCK_SPACE", "SCHEMA_VERSION", "PostgresStore", "connect", "is_postgres_url", "redacted"]

_AGE_CHECK_SECONDS = 5.0
_TABLES = ("predictions", "users", "seen", "evicted")
_PLACEHOLDER = float("inf")
#: The columns holding ids (table, column, whether its values start with their kind: ``e:``, ``api:``).
_ID_COLUMNS = (("predictions", "id", False), ("evicted", "id", False), ("seen", "key", True),
               ("incidents", "id", True))


def _json(value: object) -> str:
    return "true" if value is True else ("false" if value is False else json.dumps(value))


def _dumps(value: object) -> str | None:
    return None if value is None else _json(value)


class PostgresStore:
    """One replica's view of the shared database: a writer connection and a reader connection."""

    def __init__(self, url: str, retention: Retention, replica: str) -> None:
        self.url = url
        self.retention = retention
        self.replica = replica
        self._db = connect(url)
        with failing_as_store_error("creating the tables"):
            create_schema(self._db, url)
        self._reader = connect(url)
        self._reader_lock = threading.Lock()
        #: Rows this replica added (or removed) in the open transaction, by table; and at the savepoint.
        self._delta: dict[str, int] = dict.fromkeys(_TABLES, 0)
        self._saved: dict[str, int] = dict(self._delta)
        self._first_transaction = True
        self._next_age_check = 0.0

    def _writer(self) -> psycopg.Connection[Any]:
        """The writer connection, opened again when the last one was lost."""
        if self._db.closed or self._db.broken:
            self._db = connect(self.url)
        return self._db

    # --- transactions -------------------------------------------------------------------
    def begin(self) -> None:
        with failing_as_store_error("begin"):
            self._writer().execute("BEGIN")
            if self._first_transaction:  # the key check: replicas starting together take turns
                self._db.execute("SELECT pg_advisory_xact_lock(%s, %s)", (LOCK_SPACE, STARTUP_LOCK))
        self._delta = dict.fromkeys(_TABLES, 0)

    @contextlib.contextmanager
    def isolated(self) -> Iterator[None]:
        """One request inside the group's transaction, as SQLiteStore.isolated: its failure undoes it alone."""
        with failing_as_store_error("savepoint"):
            self._db.execute("SAVEPOINT request")
        self._saved = dict(self._delta)
        try:
            yield
        except psycopg.Error as exc:
            raise StoreError(f"write failed: {type(exc).__name__}") from exc
        except BaseException:
            with failing_as_store_error("rollback to savepoint"):
                self._db.execute("ROLLBACK TO SAVEPOINT request")
                self._db.execute("RELEASE SAVEPOINT request")
            self._delta = self._saved
            raise
        with failing_as_store_error("release savepoint"):
            self._db.execute("RELEASE SAVEPOINT request")

    def commit(self) -> None:
        with failing_as_store_error("commit"):
            changed = [(self.replica, table, n) for table, n in self._delta.items() if n]
            if changed:
                self._db.cursor().executemany(
                    "INSERT INTO row_counts(replica, tbl, n) VALUES (%s, %s, %s) ON CONFLICT (replica, tbl)"
                    " DO UPDATE SET n = row_counts.n + excluded.n", changed)
            self._db.execute("COMMIT")
        self._first_transaction = False
        self._delta = dict.fromkeys(_TABLES, 0)

    def rollback(self) -> None:
        self._delta = dict.fromkeys(_TABLES, 0)
        if not self._db.closed and not self._db.broken:
            with failing_as_store_error("rollback"):
                self._db.execute("ROLLBACK")

    def close(self) -> None:
        with self._reader_lock:
            self._reader.close()
        self._db.close()

    # --- meta and series -------------------------------------------------------------------
    def _lock_key(self, space: str, key: str) -> None:
        """Until commit, no other replica gets past this for the same key (rows not there yet cannot be locked)."""
        self._db.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (LOCK_SPACE, space + ":" + key))

    def get_meta(self, key: str) -> bytes | None:
        sql = "SELECT value FROM meta WHERE key=%s FOR UPDATE"
        row = self._writer().execute(sql, (key,)).fetchone()
        if row is None and self._db.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            self._lock_key("meta", key)
            row = self._db.execute(sql, (key,)).fetchone()
        return None if row is None else bytes(row[0])

    def read_meta(self, key: str) -> bytes | None:
        """The committed value, for readers outside the writer thread."""
        row = self._read("SELECT value FROM meta WHERE key=%s", (key,))
        return None if not row else bytes(row[0][0])

    def put_meta(self, key: str, value: bytes) -> None:
        self._db.execute("INSERT INTO meta(key, value) VALUES (%s, %s) ON CONFLICT (key) DO UPDATE"
                         " SET value=excluded.value", (key, value))

    def delete_meta(self, key: str) -> None:
        self._db.execute("DELETE FROM meta WHERE key=%s", (key,))

    def scrub(self) -> None:
        """Nothing to scrub: a PostgreSQL store never held the legacy key or raw ids."""

    def hash_ids(self, hash_id: Callable[[str], bytes]) -> None:
        """Replace every stored raw id by its keyed hash; a new database has none, so this is cheap."""
        self._bytea_ids("convert_to({c}, 'UTF8')")
        cur = self._db.cursor()
        for table, column, prefixed in _ID_COLUMNS:
            pairs = []
            for (old,) in cur.execute(f"SELECT {column} FROM {table}").fetchall():
                raw = bytes(old).decode("utf-8")
                head, sep, tail = raw.partition(":") if prefixed else ("", "", raw)
                pairs.append(((head + sep).encode("ascii") + hash_id(tail), old))
            cur.executemany(f"UPDATE {table} SET {column}=%s WHERE {column}=%s", pairs)

    def binary_ids(self) -> None:
        """Turn ids stored as hex text (a version 1 database) into bytea holding the same digests.

        One ALTER per column, in the startup transaction (which holds the startup lock, and
        takes each table's exclusive lock until it commits): it is all done, or not at all.
        """
        self._bytea_ids("convert_to(left({c}, -32), 'UTF8') || decode(right({c}, 32), 'hex')")  # 32 hex digits

    def _bytea_ids(self, using: str) -> None:
        """Change each id column still of type text to bytea, its values through ``using`` (``{c}``: the column)."""
        for table, column, _ in _ID_COLUMNS:
            row = self._db.execute("SELECT data_type FROM information_schema.columns WHERE table_schema ="
                                   " current_schema() AND table_name=%s AND column_name=%s", (table, column)).fetchone()
            if row is not None and row[0] == "text":
                self._db.execute(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE bytea USING "
                                 + using.format(c=column))

    def load_series(self) -> dict[str, list[float]]:
        with failing_as_store_error("loading the counters"):
            rows = self._writer().execute("SELECT key, data FROM series WHERE replica=%s", (self.replica,))
            return {key: json.loads(data) for key, data in rows}

    def save_series(self, series: dict[str, list[float]]) -> None:
        if series:
            with failing_as_store_error("saving the counters"):
                self._db.cursor().executemany(
                    "INSERT INTO series(replica, key, data) VALUES (%s, %s, %s) ON CONFLICT (replica, key)"
                    " DO UPDATE SET data=excluded.data",
                    [(self.replica, key, json.dumps(values)) for key, values in sorted(series.items())])

    # --- events -----------------------------------------------------------------------------
    def claim(self, keys: Sequence[bytes], received: float) -> set[bytes]:
        """Record event ids; those not seen before by any replica (sorted, so two replicas lock in one order)."""
        rows = self._db.execute(
            "INSERT INTO seen(key, received) SELECT k, %s FROM unnest(%s::bytea[]) AS k ORDER BY k"
            " ON CONFLICT (key) DO NOTHING RETURNING key", (received, sorted(set(keys)))).fetchall()
        self._delta["seen"] += len(rows)
        return {bytes(k) for (k,) in rows}

    def seen(self, keys: Sequence[bytes]) -> set[bytes]:
        """The event ids among ``keys`` already claimed by any replica and committed; read-only."""
        if not keys:
            return set()
        return {bytes(k) for (k,) in self._read("SELECT key FROM seen WHERE key = ANY(%s::bytea[])",
                                                (list(set(keys)),))}

    def add_predictions(self, rows: Sequence[PredictionRow]) -> list[bool]:
        """Store predictions; False for an id already stored (by any replica, or earlier in ``rows``)."""
        first: dict[bytes, PredictionRow] = {}
        for r in rows:
            first.setdefault(r.id, r)
        todo = sorted(first.values(), key=lambda r: r.id)
        columns: list[list[Any]] = [[] for _ in range(10)]
        for r in todo:
            for column, value in zip(columns, (r.id, r.model, r.time, r.received, _json(r.predicted), r.positive,
                                               r.score, r.confidence, _dumps(r.positive_class),
                                               json.dumps(r.groups) if r.groups else None), strict=True):
                column.append(value)
        inserted = {bytes(k) for (k,) in self._db.execute(
            "INSERT INTO predictions(id, model, time, received, predicted, positive, score, confidence,"
            " positive_class, groups) SELECT * FROM unnest(%s::bytea[], %s::text[], %s::float8[], %s::float8[],"
            " %s::text[], %s::bool[], %s::float8[], %s::float8[], %s::text[], %s::text[])"
            " ON CONFLICT (id) DO NOTHING RETURNING id", columns).fetchall()}
        self._delta["predictions"] += len(inserted)
        fresh = []
        for r in rows:
            fresh.append(r.id in inserted)
            inserted.discard(r.id)  # a repeat of the id later in rows is a duplicate
        return fresh

    def get_prediction(self, prediction_id: bytes) -> PredictionRow | None:
        row = self._db.execute(
            "SELECT model, time, received, predicted, positive, score, confidence, positive_class, groups,"
            " labelled_at FROM predictions WHERE id=%s FOR UPDATE", (prediction_id,)).fetchone()
        if row is None:
            return None
        model, t, received, predicted, positive, score, confidence, positive_class, groups, labelled_at = row
        return PredictionRow(
            prediction_id, model, t, received, json.loads(predicted), positive, score, confidence,
            None if positive_class is None else json.loads(positive_class),
            json.loads(groups) if groups else {}, labelled_at is not None)

    def evicted_model(self, prediction_id: bytes) -> str | None:
        row = self._db.execute("SELECT model FROM evicted WHERE id=%s", (prediction_id,)).fetchone()
        return None if row is None else str(row[0])

    def label_prediction(self, prediction_id: bytes, labelled_at: float, actual_positive: bool | None) -> None:
        self._db.execute("UPDATE predictions SET labelled_at=%s, actual_positive=%s WHERE id=%s",
                         (labelled_at, actual_positive, prediction_id))

    def get_users(self, keys: Sequence[bytes]) -> dict[bytes, UserRow]:
        """The stored users among ``keys``, locked; a user no replica has stored yet is claimed, and absent."""
        ordered = sorted(set(keys))
        new = self._db.execute(
            "INSERT INTO users(key, first_seen, last_seen, valued_at) SELECT k, 'Infinity', '-Infinity', NULL"
            " FROM unnest(%s::bytea[]) AS k ORDER BY k ON CONFLICT (key) DO NOTHING RETURNING key",
            (ordered,)).fetchall()
        self._delta["users"] += len(new)
        found: dict[bytes, UserRow] = {}
        for key, first, last, valued in self._db.execute(
                "SELECT key, first_seen, last_seen, valued_at FROM users WHERE key = ANY(%s) ORDER BY key"
                " FOR UPDATE", (ordered,)):
            if first != _PLACEHOLDER:
                found[bytes(key)] = UserRow(bytes(key), first, last, valued)
        return found

    def put_users(self, rows: Sequence[UserRow], new: int) -> None:
        """Write users back (their rows were claimed by ``get_users``, which counted the new ones)."""
        if rows:
            ordered = sorted(rows, key=lambda r: r.key)
            self._db.execute(
                "INSERT INTO users(key, first_seen, last_seen, valued_at) SELECT * FROM unnest(%s::bytea[],"
                " %s::float8[], %s::float8[], %s::float8[]) ON CONFLICT (key) DO UPDATE SET"
                " first_seen=excluded.first_seen, last_seen=excluded.last_seen, valued_at=excluded.valued_at",
                ([r.key for r in ordered], [r.first_seen for r in ordered], [r.last_seen for r in ordered],
                 [r.valued_at for r in ordered]))

    def get_incident(self, incident_id: bytes) -> IncidentRow | None:
        sql = ("SELECT severity, source, occurred, detected, resolved, updated FROM incidents WHERE id=%s"
               " FOR UPDATE")
        row = self._db.execute(sql, (incident_id,)).fetchone()
        if row is None:
            self._lock_key("incident", incident_id.hex())
            row = self._db.execute(sql, (incident_id,)).fetchone()
        return None if row is None else IncidentRow(incident_id, *row)

    def put_incident(self, row: IncidentRow) -> None:
        self._db.execute(
            "INSERT INTO incidents(id, severity, source, occurred, detected, resolved, updated) VALUES"
            " (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO UPDATE SET severity=excluded.severity,"
            " source=excluded.source, occurred=excluded.occurred, detected=excluded.detected,"
            " resolved=excluded.resolved, updated=excluded.updated",
            (row.id, row.severity, row.source, row.occurred, row.detected, row.resolved, row.updated))

    def delete_incident(self, incident_id: bytes) -> None:
        self._db.execute("DELETE FROM incidents WHERE id=%s", (incident_id,))

    # --- retention ----------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        """Rows held, by table: every replica's committed share plus this transaction's."""
        totals = dict(self._db.execute("SELECT tbl, sum(n)::bigint FROM row_counts GROUP BY tbl").fetchall())
        return {table: int(totals.get(table, 0)) + self._delta[table] for table in _TABLES}

    def evict(self, now: float) -> dict[str, int]:
        """Drop surplus and expired predictions, user keys and event ids; counts of what went."""
        with failing_as_store_error("eviction"):
            return self._evict(now)

    def _evict(self, now: float) -> dict[str, int]:
        r, held = self.retention, self.counts()
        evicted = {"prediction": 0, "activity": 0}
        age_check = now >= self._next_age_check
        if age_check:
            self._next_age_check = now + _AGE_CHECK_SECONDS
        oldest = "seq IN (SELECT seq FROM {t} ORDER BY seq LIMIT %s FOR UPDATE SKIP LOCKED)"
        surplus = held["predictions"] - r.prediction_max_count
        if surplus > 0:
            evicted["prediction"] += self._evict_predictions(oldest.format(t="predictions"), surplus)
        if age_check:
            evicted["prediction"] += self._evict_predictions("received < %s", now - r.prediction_max_age_seconds)
        surplus = held["users"] - r.user_max_count
        if surplus > 0:
            evicted["activity"] += self._delete("users", "key IN (SELECT key FROM users WHERE first_seen <>"
                                                " 'Infinity' ORDER BY last_seen LIMIT %s FOR UPDATE SKIP LOCKED)",
                                                surplus)
        if age_check:
            evicted["activity"] += self._delete("users", "last_seen < %s AND first_seen <> 'Infinity'",
                                                now - r.user_max_age_seconds)
        surplus = held["seen"] - r.dedup_max_count
        if surplus > 0:
            self._delete("seen", oldest.format(t="seen"), surplus)
        if age_check:
            self._delete("seen", "received < %s", now - r.dedup_max_age_seconds)
            self._db.execute("DELETE FROM incidents WHERE resolved IS NOT NULL AND updated < %s",
                             (now - r.incident_max_age_seconds,))
        return evicted

    def _evict_predictions(self, where: str, arg: float) -> int:
        # remember what was evicted, so a late label is counted as expired rather than unknown
        gone, kept = self._db.execute(
            f"WITH gone AS (DELETE FROM predictions WHERE {where} RETURNING id, model),"
            " kept AS (INSERT INTO evicted(id, model) SELECT id, model FROM gone ORDER BY id"
            " ON CONFLICT (id) DO NOTHING RETURNING 1)"
            " SELECT (SELECT count(*) FROM gone), (SELECT count(*) FROM kept)", (arg,)).fetchone() or (0, 0)
        self._delta["predictions"] -= gone
        self._delta["evicted"] += kept
        surplus = self.counts()["evicted"] - self.retention.prediction_max_count
        if surplus > 0:
            self._delete("evicted", "seq IN (SELECT seq FROM evicted ORDER BY seq LIMIT %s FOR UPDATE SKIP LOCKED)",
                         surplus)
        return int(gone)

    def _delete(self, table: str, where: str, arg: float) -> int:
        n = self._db.execute(f"DELETE FROM {table} WHERE {where}", (arg,)).rowcount
        self._delta[table] -= n
        return int(n)

    # --- readers (any thread) ----------------------------------------------------------------
    def _read(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        with self._reader_lock, failing_as_store_error("read"):
            if self._reader.closed or self._reader.broken:
                self._reader = connect(self.url)
            return self._reader.execute(sql, params).fetchall()

    def labelled_scores(self, since: float) -> list[tuple[str, float, int, float]]:
        """(model, score, actual positive, labelled at) of binary predictions labelled since ``since``."""
        return [(model, score, int(actual), at) for model, score, actual, at in self._read(
            "SELECT model, score, actual_positive, labelled_at FROM predictions WHERE labelled_at >= %s"
            " AND score IS NOT NULL AND actual_positive IS NOT NULL", (since,))]

    def active_users(self, since: list[float]) -> list[int]:
        """Distinct users last seen at or after each cut-off, over every replica's events."""
        return [int(self._read("SELECT count(*) FROM users WHERE last_seen >= %s AND first_seen <> 'Infinity'",
                               (cut,))[0][0]) for cut in since]

    def all_series(self, names: Sequence[str]) -> list[tuple[str, list[float]]]:
        """Every replica's committed values of the series named ``names`` (the leader merges them)."""
        patterns = [json.dumps([name])[:-1] + "%" for name in names]
        return [(key, json.loads(data)) for key, data in self._read(
            "SELECT key, data FROM series WHERE key LIKE ANY(%s)", (patterns,))]
