"""The replica's lease on a real PostgreSQL: a replica that stops gives its id and the leader lock back at once."""

from __future__ import annotations

import pytest

from aivitals.sidecar.leader import Lease
from aivitals.sidecar.settings import SettingsError

CYCLES = 40


def test_a_replica_stopped_and_started_again_at_once_keeps_its_id_and_leads(pg_url: str) -> None:
    """The lifespan of a restarted app, or a pod restarted under the same name, must not be refused as a
    duplicate of itself: closing unlocks before the session goes, not when PostgreSQL's backend exits."""
    for _ in range(CYCLES):
        lease = Lease(pg_url, "same", poll_seconds=60)
        assert lease.is_leader
        lease.close()
        assert not lease.is_leader


def test_while_a_replica_runs_its_id_is_refused_and_another_waits_to_lead(pg_url: str) -> None:
    first = Lease(pg_url, "a", poll_seconds=60)
    try:
        with pytest.raises(SettingsError, match="another sidecar replica with --replica-id a"):
            Lease(pg_url, "a", poll_seconds=60)
        second = Lease(pg_url, "b", poll_seconds=60)
        try:
            assert first.is_leader and not second.is_leader
            first.close()
            second._try_leader()  # its next poll, without waiting for it
            assert second.is_leader
        finally:
            second.close()
    finally:
        first.close()
