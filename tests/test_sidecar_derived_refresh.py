"""The computed gauges (ROC-AUC, log loss, active users, probe results) never hold a scrape up.

At the default retention (a million labelled predictions) one computation takes
seconds; a scrape that waited for it could pass Prometheus's scrape timeout, and
a failed scrape marks every sidecar series stale. So only the first scrape
computes in the request; after that a stale set is served while a background
thread computes the next. The store below is the real SQLite store whose
active-users read can be held by the test (the narrowest seam there is to make
a read slow on purpose).
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from _sidecar import Clock, sample, settings
from aivitals.sidecar import create_app
from aivitals.sidecar.app import retention_from
from aivitals.sidecar.derived import COST_FACTOR, DerivedGauges
from aivitals.sidecar.ledger import Ledger
from aivitals.sidecar.settings import Settings
from aivitals.sidecar.store import SQLiteStore, StoreError

REFRESH_S = 10.0
#: How long a held read waits for the test before it gives up (a hung test fails instead of hanging).
HOLD_LIMIT_S = 30.0


class HeldStore(SQLiteStore):
    """The SQLite store; while ``hold`` is set, an active-users read waits for ``release`` (or fails on demand)."""

    def __init__(self, conf: Settings) -> None:
        super().__init__(conf.store, retention_from(conf))
        self.hold = False
        self.fail = False
        self.entered = threading.Event()
        self.release = threading.Event()
        self.reads = 0

    def active_users(self, since: list[float]) -> list[int]:
        self.reads += 1
        if self.hold:
            self.entered.set()
            assert self.release.wait(HOLD_LIMIT_S), "the test never released the read"
        if self.fail:
            raise StoreError("read failed: connection lost")
        return super().active_users(since)


def _gauges(tmp_path: Path) -> tuple[DerivedGauges, HeldStore, Clock]:
    conf = settings(tmp_path, derived_refresh_seconds=REFRESH_S)
    store, clock = HeldStore(conf), Clock()
    return DerivedGauges(store, Ledger(), conf, clock), store, clock


def _wait_idle(gauges: DerivedGauges) -> None:
    running = gauges._refreshing
    if running is not None:
        running.join(HOLD_LIMIT_S)


def test_the_first_scrape_computes_and_a_stale_one_is_served_while_the_next_is_computed(tmp_path: Path) -> None:
    conf = settings(tmp_path, derived_refresh_seconds=REFRESH_S)
    store, clock = HeldStore(conf), Clock()
    with TestClient(create_app(conf, store=store, clock=clock)) as c:
        c.post("/v1/activity", json={"user": "u1"})
        assert sample(c.get("/metrics").text, "aivitals_active_users", {"window": "1d"}) == 1
        c.post("/v1/activity", json={"user": "u2"})
        clock.now += REFRESH_S
        store.hold = True
        # the refresh is held inside its read: the scrape answers anyway, with the figures it has
        first = c.get("/metrics")
        assert store.entered.wait(HOLD_LIMIT_S), "no refresh was started"
        assert first.status_code == 200 and not store.release.is_set()
        assert sample(first.text, "aivitals_active_users", {"window": "1d"}) == 1
        assert sample(c.get("/metrics").text, "aivitals_active_users", {"window": "1d"}) == 1
        assert store.reads == 2, "a second refresh started while one was under way"
        store.release.set()
        _wait_idle(c.app.state.sidecar.derived)  # type: ignore[attr-defined]
        assert sample(c.get("/metrics").text, "aivitals_active_users", {"window": "1d"}) == 2


def test_no_refresh_before_it_is_due(tmp_path: Path) -> None:
    gauges, store, clock = _gauges(tmp_path)
    gauges.get()
    clock.now += REFRESH_S - 1
    gauges.get()
    assert gauges._refreshing is None and store.reads == 1


def test_a_slow_computation_spaces_the_next_ones_out(tmp_path: Path) -> None:
    gauges, store, clock = _gauges(tmp_path)
    gauges.get()
    gauges._cost = 5.0  # as if the last computation took 5 s: the next is due after 20 s, not 10 s
    clock.now += REFRESH_S + 1
    gauges.get()
    assert gauges._refreshing is None and store.reads == 1
    clock.now += COST_FACTOR * 5.0
    gauges.get()
    _wait_idle(gauges)
    assert store.reads == 2


def test_a_failed_refresh_keeps_the_last_good_figures_and_is_tried_again(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    gauges, store, clock = _gauges(tmp_path)
    good = gauges.get()
    store.fail = True
    clock.now += REFRESH_S
    with caplog.at_level(logging.WARNING, logger="aivitals.sidecar"):
        assert gauges.get() is good
        _wait_idle(gauges)
    assert "connection lost" in caplog.text
    assert gauges.get() is good  # served again, and a new try started at once: it is still due
    _wait_idle(gauges)
    assert store.reads == 3
    store.fail = False
    gauges.get()
    _wait_idle(gauges)
    assert gauges.get() is not good


def test_closing_waits_for_a_refresh_under_way_and_starts_no_other(tmp_path: Path) -> None:
    gauges, store, clock = _gauges(tmp_path)
    gauges.get()
    store.hold = True
    clock.now += REFRESH_S
    gauges.get()
    assert store.entered.wait(HOLD_LIMIT_S)
    closer = threading.Thread(target=gauges.close)
    closer.start()
    closer.join(0.2)
    assert closer.is_alive(), "close() returned while a refresh was still reading the store"
    store.release.set()
    closer.join(HOLD_LIMIT_S)
    assert not closer.is_alive()
    clock.now += 10 * REFRESH_S
    gauges.get()
    assert gauges._refreshing is None and store.reads == 2


def test_with_refresh_zero_every_scrape_computes_in_the_request(tmp_path: Path) -> None:
    conf = settings(tmp_path, derived_refresh_seconds=0.0)
    store = HeldStore(conf)
    gauges = DerivedGauges(store, Ledger(), conf, Clock())
    gauges.get()
    gauges.get()
    assert store.reads == 2 and gauges._refreshing is None
