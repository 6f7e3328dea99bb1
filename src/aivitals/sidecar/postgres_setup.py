"""What the PostgreSQL store needs before its first transaction: a connection, and tables at a version it knows.

Apart from ``postgres.py`` so the store there holds only the reads and writes of events; the leader
(``leader.py``) connects and takes advisory locks in the same space through this module too.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import psycopg

from .store_contract import StoreError

#: Version of the tables below; a database written by a newer sidecar is refused, never rewritten.
#: 2: ids are bytea (16-byte digests); a version 1 database's text ids are converted at start
#: (``PostgresStore.binary_ids``, in the startup transaction) and a version 1 sidecar refuses it.
SCHEMA_VERSION = 2
_VERSION_META = "schema_version"
#: First key of every advisory lock aivitals takes ("aivi"), so it cannot collide with an application's.
LOCK_SPACE = 0x61697669
#: Second keys: the schema set-up, the first transaction of a starting replica, then hashtext(key) locks.
_SCHEMA_LOCK, STARTUP_LOCK = 1, 2

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key text PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE IF NOT EXISTS series(replica text NOT NULL, key text NOT NULL, data text NOT NULL,
    PRIMARY KEY (replica, key));
CREATE TABLE IF NOT EXISTS row_counts(replica text NOT NULL, tbl text NOT NULL, n bigint NOT NULL,
    PRIMARY KEY (replica, tbl));
CREATE TABLE IF NOT EXISTS seen(seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, key bytea NOT NULL UNIQUE,
    received double precision NOT NULL);
CREATE INDEX IF NOT EXISTS seen_received ON seen(received);
CREATE TABLE IF NOT EXISTS predictions(seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, id bytea NOT NULL UNIQUE,
    model text NOT NULL, time double precision NOT NULL, received double precision NOT NULL, predicted text NOT NULL,
    positive boolean, score double precision, confidence double precision, positive_class text, groups text,
    labelled_at double precision, actual_positive boolean);
CREATE INDEX IF NOT EXISTS predictions_received ON predictions(received);
CREATE INDEX IF NOT EXISTS predictions_labelled ON predictions(labelled_at) WHERE labelled_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS evicted(seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, id bytea NOT NULL UNIQUE,
    model text NOT NULL);
CREATE TABLE IF NOT EXISTS users(key bytea PRIMARY KEY, first_seen double precision NOT NULL,
    last_seen double precision NOT NULL, valued_at double precision);
CREATE INDEX IF NOT EXISTS users_last_seen ON users(last_seen);
CREATE TABLE IF NOT EXISTS incidents(id bytea PRIMARY KEY, severity text NOT NULL, source text NOT NULL,
    occurred double precision, detected double precision, resolved double precision,
    updated double precision NOT NULL);
"""


def is_postgres_url(value: str) -> bool:
    return value.startswith(("postgresql://", "postgres://"))


def redacted(url: str) -> str:
    """The URL without its password, for messages and logs."""
    info = psycopg.conninfo.conninfo_to_dict(url)
    host, db = info.get("host") or "localhost", info.get("dbname") or ""
    port = f":{info['port']}" if info.get("port") else ""
    return f"postgresql://{host}{port}/{db}"


def connect(url: str) -> psycopg.Connection[Any]:
    """An autocommit connection (transactions are explicit); StoreError naming the server when it fails."""
    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=10, application_name="aivitals-sidecar",
                               keepalives=1, keepalives_idle=5, keepalives_interval=2, keepalives_count=3)
    except psycopg.Error as exc:
        raise StoreError(f"cannot connect to {redacted(url)}: {str(exc).strip().splitlines()[0]}") from exc


@contextlib.contextmanager
def failing_as_store_error(what: str) -> Iterator[None]:
    """psycopg's errors as StoreError, with the first line of the server's message (the client retries)."""
    try:
        yield
    except psycopg.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StoreError(f"{what} failed: {first}") from exc


def create_schema(db: psycopg.Connection[Any], url: str) -> None:
    """Create the tables (replicas starting together take turns); refuse a database a newer sidecar wrote."""
    with db.transaction():
        db.execute("SELECT pg_advisory_xact_lock(%s, %s)", (LOCK_SPACE, _SCHEMA_LOCK))
        db.execute(_SCHEMA)
        row = db.execute("SELECT value FROM meta WHERE key=%s", (_VERSION_META,)).fetchone()
        version = 0 if row is None else int(bytes(row[0]))
        if version > SCHEMA_VERSION:
            raise StoreError(f"the database {redacted(url)} was written by a newer aivitals (schema "
                             f"{version}, this one knows {SCHEMA_VERSION}): upgrade this sidecar")
        if version < SCHEMA_VERSION:
            db.execute("INSERT INTO meta(key, value) VALUES (%s, %s) ON CONFLICT (key) DO UPDATE"
                       " SET value=excluded.value", (_VERSION_META, str(SCHEMA_VERSION).encode()))
