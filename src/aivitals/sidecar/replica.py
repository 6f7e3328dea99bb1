"""Several sidecar replicas on one PostgreSQL store: which store to open, and what each replica exports.

Every replica exports the counters and histograms of the events it committed,
labelled ``replica``: a ``sum`` over replicas is the total, and a restarted
replica resumes its own series from the store. The figures that are not sums
(distinct active users, ROC-AUC and log loss over joined labels, open incidents,
freshness timestamps, probe results, the configured costs and eligible users)
are exported by the leader alone, without a ``replica`` label, so ``sum`` and
``max`` over them give the same answer with one replica or many. Open incidents
and the freshness timestamps are merged by the leader from every replica's
committed series: open incidents add up (each replica holds the opens minus the
resolves it committed), timestamps take the latest.

With SQLite there is one replica, and everything is exported as before, unlabelled.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from collections.abc import Callable, Iterator

from prometheus_client.core import Metric as Family

from aivitals.catalogue import Metric, Replicas

from . import _metrics as M
from .collector import SidecarCollector
from .derived import DerivedGauges
from .ledger import Ledger, SeriesKey
from .settings import Settings
from .store import EventStore, Retention, SQLiteStore, StoreError

log = logging.getLogger("aivitals.sidecar")

#: Gauges each replica moves that the leader exports merged over replicas, and how (from the catalogue).
MERGED_BY_LEADER: dict[str, str] = {m.name: "sum" if m.replicas is Replicas.LEADER_SUM else "max"
                                    for m in M.RECORDED if m.replicas in (Replicas.LEADER_SUM, Replicas.LEADER_MAX)}
#: Recorded per replica, exported by each with its ``replica`` label.
PER_REPLICA: tuple[Metric, ...] = tuple(m for m in M.RECORDED if m.replicas is Replicas.EACH)


def replica_id(settings: Settings) -> str:
    """``--replica-id``, else the pod name ($POD_NAME, then $HOSTNAME), else this host's name."""
    return (settings.replica_id or os.environ.get("POD_NAME") or os.environ.get("HOSTNAME")
            or socket.gethostname())


def open_store(settings: Settings, retention: Retention) -> EventStore:
    """SQLite at ``settings.store``, or the PostgreSQL database at ``settings.store_url``."""
    if settings.store_url is None:
        return SQLiteStore(settings.store, retention)
    from .postgres import PostgresStore  # lazy: psycopg is the ``postgres`` extra

    return PostgresStore(settings.store_url, retention, replica_id(settings))


def merge_leader_series(rows: list[tuple[str, list[float]]]) -> dict[SeriesKey, list[float]]:
    """Every replica's values of the merged gauges as one series each: summed or the latest."""
    merged: dict[SeriesKey, list[float]] = {}
    for key, values in rows:
        name, *labels = json.loads(key)
        how = MERGED_BY_LEADER.get(name)
        if how is None:
            continue
        series = (name, tuple(labels))
        if series not in merged:
            merged[series] = [float(values[0])]
        elif how == "sum":
            merged[series][0] += float(values[0])
        else:
            merged[series][0] = max(merged[series][0], float(values[0]))
    return merged


class ReplicaCollector(SidecarCollector):
    """One replica's exposition: its own series always, the global figures while it leads."""

    def __init__(self, ledger: Ledger, settings: Settings, derived: DerivedGauges, store: EventStore,
                 replica: str, is_leader: Callable[[], bool]) -> None:
        super().__init__(ledger, settings, derived)
        self.store = store
        self.replica = replica
        #: Whether this replica leads now, asked at each scrape.
        self.is_leader = is_leader

    def collect(self) -> Iterator[Family]:
        yield from self.recorded(self.ledger.snapshot(), PER_REPLICA, self.replica)
        if not self.is_leader():
            return
        try:
            rows = self.store.all_series(tuple(MERGED_BY_LEADER))  # type: ignore[attr-defined]
        except StoreError as exc:  # the replica's own series still go out
            log.warning("merged gauges skipped, the store could not be read: %s", exc)
        else:
            merged = [m for m in M.RECORDED if m.name in MERGED_BY_LEADER]
            yield from self.recorded(merge_leader_series(rows), merged)
        yield from self._configured()
        yield from self._computed()
