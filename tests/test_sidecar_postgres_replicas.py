"""Several sidecar replicas on one real PostgreSQL: every acknowledged event counted once in the sum over
replicas, the same event id on two replicas at once counted once, a SIGKILLed replica resuming its own series,
and the leader-only figures exported by exactly one replica, before and after the leader dies."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from _sidecar import Clock, free_port, get, send_to_both_at_once, settings, start_sidecar, stop
from aivitals.sidecar import create_app
from aivitals.sidecar.client import SidecarClient

KEY = "a hashing key shared by every replica"
#: Leader-only: exported by exactly one replica, without a replica label.
LEADER_ONLY = ("aivitals_active_users", "aivitals_eligible_users", "aivitals_fixed_cost_usd_per_month")
#: Two scrape intervals at the default 15 s scrape: the bound for another replica to take over.
TAKEOVER_BOUND_S = 30.0


def accepted(text: str, kind: str) -> dict[str, float]:
    """aivitals_events_total{result="accepted"} of one kind, by replica."""
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == "aivitals_events_total" and s.labels.get("event_kind") == kind \
                    and s.labels.get("result") == "accepted":
                out[s.labels["replica"]] = out.get(s.labels["replica"], 0.0) + s.value
    return out


def exports(text: str, name: str) -> bool:
    return any(s.name == name for family in text_string_to_metric_families(text) for s in family.samples)


def test_the_same_event_ids_sent_to_two_replicas_at_once_are_counted_once(tmp_path: Path, pg_url: str) -> None:
    apps = [TestClient(create_app(settings(tmp_path, store_url=pg_url, user_key_secret=KEY, replica_id=f"r{i}"),
                                  clock=Clock())) for i in range(2)]
    batches = [[{"event_id": f"e{n}-{i}", "score": 9} for i in range(50)] for n in range(20)]
    with apps[0] as a, apps[1] as b:
        answers = send_to_both_at_once((a, b), "/v1/surveys", batches)
        per_replica = accepted(a.get("/metrics").text, "survey") | accepted(b.get("/metrics").text, "survey")
    assert sum(answers) == 1000  # each id accepted by exactly one of the two answers
    assert sum(per_replica.values()) == 1000


def test_a_second_replica_with_the_same_id_is_refused(tmp_path: Path, pg_url: str) -> None:
    from aivitals.sidecar.settings import SettingsError

    conf = settings(tmp_path, store_url=pg_url, user_key_secret=KEY, replica_id="same")
    with TestClient(create_app(conf, clock=Clock())), pytest.raises(SettingsError, match="--replica-id same"):
        create_app(conf, clock=Clock())


def test_a_replica_needs_the_shared_hashing_key_and_refuses_another(tmp_path: Path, pg_url: str) -> None:
    from aivitals.sidecar.settings import SettingsError

    with pytest.raises(SettingsError, match="need one hashing key"):
        create_app(settings(tmp_path, store_url=pg_url, replica_id="a"), clock=Clock())
    with TestClient(create_app(settings(tmp_path, store_url=pg_url, user_key_secret=KEY, replica_id="a"))):
        pass
    with pytest.raises(SettingsError, match="is not the one the store"):
        create_app(settings(tmp_path, store_url=pg_url, user_key_secret="another key of 16+ chars",
                            replica_id="b"), clock=Clock())


# --- real processes -------------------------------------------------------------------------------------------
def _start(url: str, replica: str, tmp_path: Path, port: int) -> subprocess.Popen[bytes]:
    """One replica on ``url`` (the config's store_url wins over the --store path start_sidecar passes)."""
    config = {"leader_poll_seconds": 0.5, "eligible_users": 100, "fixed_costs_usd_per_month": {"compute": 10.0},
              "store_url": url, "replica_id": replica}
    return start_sidecar(tmp_path / f"{replica}.unused.db", port, config, {"AIVITALS_USER_KEY_SECRET": KEY})


@contextlib.contextmanager
def replicas(url: str, tmp_path: Path, n: int) -> Iterator[dict[str, Any]]:
    procs: dict[str, Any] = {}
    try:
        for i in range(n):
            port = free_port()
            procs[f"r{i}"] = {"port": port, "proc": _start(url, f"r{i}", tmp_path, port)}
        yield procs
    finally:
        for p in procs.values():
            stop(p["proc"])


def scrape(port: int) -> str:
    return get(port, "/metrics")[1].decode()


@pytest.mark.slow
def test_a_replica_killed_mid_load_loses_no_acknowledged_event_and_resumes_its_series(tmp_path: Path,
                                                                                        pg_url: str) -> None:
    with replicas(pg_url, tmp_path, 2) as procs:
        batches = [[{"event_id": f"b{n}-{i}", "score": 3} for i in range(100)] for n in range(60)]
        acknowledged: set[int] = set()
        lock = threading.Lock()

        def load(replica: str, which: range) -> None:
            client = SidecarClient(f"http://127.0.0.1:{procs[replica]['port']}", retry_for=0.0, timeout=5.0)
            for n in which:
                with contextlib.suppress(Exception):  # the killed replica's requests fail: retried below
                    client.send("survey", batches[n])
                    with lock:
                        acknowledged.add(n)

        loaders = [threading.Thread(target=load, args=("r0", range(0, 60, 2))),
                   threading.Thread(target=load, args=("r1", range(1, 60, 2)))]
        for t in loaders:
            t.start()
        while len(acknowledged) < 10:
            time.sleep(0.01)
        procs["r1"]["proc"].send_signal(signal.SIGKILL)  # mid-load
        procs["r1"]["proc"].wait(10)
        for t in loaders:
            t.join()
        assert len(acknowledged) < 60  # the kill did cut the load short
        before_restart = scrape(procs["r0"]["port"])
        # the client retries every request it got no answer for, with the same ids, on the survivor
        survivor = SidecarClient(f"http://127.0.0.1:{procs['r0']['port']}")
        for n in range(60):
            if n not in acknowledged:
                survivor.send("survey", batches[n])
        stop(procs["r1"]["proc"])
        procs["r1"]["proc"] = _start(pg_url, "r1", tmp_path, procs["r1"]["port"])
        totals = accepted(scrape(procs["r0"]["port"]), "survey") | accepted(scrape(procs["r1"]["port"]), "survey")
    assert sum(totals.values()) == 6000  # every event exactly once, over both replicas
    assert totals["r1"] > 0  # the restarted replica exports its own committed series again
    assert accepted(before_restart, "survey")["r0"] <= totals["r0"]


@pytest.mark.slow
def test_the_leader_only_figures_come_from_one_replica_and_another_takes_over_when_it_dies(tmp_path: Path,
                                                                                            pg_url: str) -> None:
    with replicas(pg_url, tmp_path, 3) as procs:
        SidecarClient(f"http://127.0.0.1:{procs['r2']['port']}").send("activity", {"user": "u1"})

        def leaders() -> list[str]:
            found = []
            for name, p in procs.items():
                if p["proc"].poll() is None:
                    text = scrape(p["port"])
                    if all(exports(text, metric) for metric in LEADER_ONLY):
                        found.append(name)
                    else:
                        assert not any(exports(text, metric) for metric in LEADER_ONLY), name
            return found

        first = leaders()
        assert len(first) == 1
        procs[first[0]]["proc"].send_signal(signal.SIGKILL)
        procs[first[0]]["proc"].wait(10)
        deadline = time.monotonic() + TAKEOVER_BOUND_S
        after = leaders()
        while not after and time.monotonic() < deadline:
            time.sleep(0.2)
            after = leaders()
        assert len(after) == 1 and after != first
        assert exports(scrape(procs[after[0]]["port"]), "aivitals_active_users")
