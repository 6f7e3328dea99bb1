"""Who this replica is, and whether it is the leader: two PostgreSQL session advisory locks.

The replica lock (keyed on the replica id) is held for the replica's life, so a
second replica started with the same ``--replica-id`` is refused instead of
overwriting the first one's counter series. The leader lock is tried every
``leader_poll_seconds`` by every replica; the one holding it exports the global
figures that are not sums (active users, ROC-AUC, open incidents, freshness,
probe results, configured costs). Both locks live on one dedicated connection: a
replica that dies (SIGKILL included) closes it, PostgreSQL drops its locks, and
another replica takes the leader lock at its next try. TCP keepalives on both
ends bound how long a vanished host keeps the session open.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import psycopg

from .postgres_setup import LOCK_SPACE, connect, redacted
from .settings import SettingsError
from .store import StoreError

log = logging.getLogger("aivitals.sidecar")

_LEADER_KEY = 3
#: PostgreSQL closes a session whose client stopped answering after about idle + interval * count seconds.
_SERVER_KEEPALIVES = ("SET tcp_keepalives_idle = 5", "SET tcp_keepalives_interval = 2",
                      "SET tcp_keepalives_count = 3")


class Lease:
    """This replica's identity lock and its try for the leader lock, kept by one thread."""

    def __init__(self, url: str, replica: str, poll_seconds: float) -> None:
        self.url = url
        self.replica = replica
        self.poll_seconds = poll_seconds
        self._leader = False
        self._stop = threading.Event()
        self._conn = self._open()
        self._try_leader()
        self._thread = threading.Thread(target=self._run, name="aivitals-sidecar-lease", daemon=True)
        self._thread.start()

    @property
    def is_leader(self) -> bool:
        return self._leader

    def _open(self) -> psycopg.Connection[Any]:
        conn = connect(self.url)
        for statement in _SERVER_KEEPALIVES:
            conn.execute(statement)
        (mine,) = conn.execute("SELECT pg_try_advisory_lock(%s, hashtext(%s))",
                               (LOCK_SPACE, "replica:" + self.replica)).fetchone() or (False,)
        if not mine:
            conn.close()
            raise SettingsError(f"another sidecar replica with --replica-id {self.replica} is running on "
                                f"{redacted(self.url)}: give each replica its own id (the pod name)")
        return conn

    def _try_leader(self) -> None:
        if self._leader:
            self._conn.execute("SELECT 1")  # still connected, so still holding it
        else:
            (got,) = self._conn.execute("SELECT pg_try_advisory_lock(%s, %s)",
                                        (LOCK_SPACE, _LEADER_KEY)).fetchone() or (False,)
            if got:
                log.info("replica %s is the leader: it exports the global figures", self.replica)
            self._leader = bool(got)

    def _run(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            try:
                if self._conn.closed or self._conn.broken:
                    self._conn = self._open()
                self._try_leader()
            except (psycopg.Error, StoreError, SettingsError) as exc:
                if self._leader:
                    log.warning("replica %s lost the leader lock: %s", self.replica, exc)
                self._leader = False
                self._conn.close()

    def close(self) -> None:
        """Give both locks back now, so another replica leads at its next try and this id can start again.

        The locks are unlocked explicitly before the session closes: PostgreSQL drops a closed session's
        locks only once its backend has noticed the disconnect and exited, and a replica restarted with
        the same id in that moment would be refused as a duplicate.
        """
        self._stop.set()
        self._thread.join(self.poll_seconds + 5)
        self._leader = False
        if not (self._conn.closed or self._conn.broken):
            try:
                self._conn.execute("SELECT pg_advisory_unlock_all()")
            except psycopg.Error as exc:  # the session is going anyway; its end releases them
                log.warning("replica %s: could not unlock before closing: %s", self.replica, exc)
        self._conn.close()
