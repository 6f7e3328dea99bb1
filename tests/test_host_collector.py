"""HostCollector on the real psutil, and on a stand-in psutil module where psutil must refuse.

The stand-in replaces psutil's functions (``cpu_times``, ``virtual_memory``,
``Process``) and keeps psutil's own exception classes.
"""

from __future__ import annotations

import sys
import threading
from collections import namedtuple
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import psutil
import pytest
from prometheus_client import CollectorRegistry, ProcessCollector, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from aivitals.collectors import HostCollector
from aivitals.collectors.host import STANDARD_PROCESS, process_collector_names

GiB = 2**30
#: The fields of psutil.cpu_times() on Linux, guest times included.
CpuTimes = namedtuple("CpuTimes", "user nice system idle iowait irq softirq steal guest guest_nice")


def samples(registry: CollectorRegistry) -> dict[str, float]:
    return {s.name if not s.labels else f"{s.name}{sorted(s.labels.items())}": s.value
            for m in registry.collect() for s in m.samples}


class FakeProcess:
    """psutil.Process for this pid; a method named in ``refuse`` raises the given psutil error."""

    def __init__(self, refuse: dict[str, Exception] | None = None) -> None:
        self.refuse = refuse or {}

    def _answer(self, name: str, value: Any) -> Any:
        if name in self.refuse:
            raise self.refuse[name]
        return value

    def num_threads(self) -> int:
        return self._answer("num_threads", 7)

    def cpu_times(self) -> SimpleNamespace:
        return self._answer("cpu_times", SimpleNamespace(user=12.5, system=3.25, children_user=99.0))

    def memory_info(self) -> SimpleNamespace:
        return self._answer("memory_info", SimpleNamespace(rss=123_456_789, vms=10 * GiB))

    def num_fds(self) -> int:
        return self._answer("num_fds", 42)


class FakePsutil:
    """The psutil functions the collector calls, with psutil's exception classes."""

    Error = psutil.Error
    AccessDenied = psutil.AccessDenied
    NoSuchProcess = psutil.NoSuchProcess

    def __init__(self, times: list[CpuTimes], process: FakeProcess | Callable[[int], FakeProcess] | None = None,
                 memory: tuple[int, int] = (16 * GiB, 4 * GiB)) -> None:
        self._times: Iterator[CpuTimes] = iter(times)
        self._process = process or FakeProcess()
        self.total, self.available = memory

    def cpu_times(self) -> CpuTimes:
        return next(self._times)

    def virtual_memory(self) -> SimpleNamespace:
        return SimpleNamespace(total=self.total, available=self.available, percent=0.0)

    def Process(self, pid: int) -> FakeProcess:
        return self._process(pid) if callable(self._process) else self._process


def times(user: float, idle: float, *, system: float = 0.0, iowait: float = 0.0, guest: float = 0.0,
          steal: float = 0.0) -> CpuTimes:
    return CpuTimes(user, 0.0, system, idle, iowait, 0.0, 0.0, steal, guest, 0.0)


# --- real psutil ---------------------------------------------------------------------------------


def test_real_values_are_sane() -> None:
    registry = CollectorRegistry()
    HostCollector(registry=registry)
    got = samples(registry)

    assert 0.0 <= got["aivitals_host_cpu_utilization_ratio"] <= 1.0
    memory = psutil.virtual_memory()
    assert got["aivitals_host_memory_utilization_ratio"] == pytest.approx(
        (memory.total - memory.available) / memory.total, abs=0.02)  # memory moves a little between reads
    assert got["aivitals_process_threads"] >= threading.active_count()
    errors = {name: value for name, value in got.items() if "aivitals_collector_errors_total" in name}
    assert errors and set(errors.values()) == {0.0}  # every field it reads exported at 0: none failed


def test_a_new_thread_shows_in_the_thread_count() -> None:
    registry = CollectorRegistry()
    HostCollector(registry=registry)
    before = samples(registry)["aivitals_process_threads"]
    stop = threading.Event()
    worker = threading.Thread(target=stop.wait)
    worker.start()
    try:
        during = samples(registry)["aivitals_process_threads"]
    finally:
        stop.set()
        worker.join()

    assert during == before + 1


def test_cpu_utilization_agrees_with_psutil_cpu_percent(monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = times(100.0, 900.0, system=50.0, iowait=20.0, guest=30.0, steal=5.0), times(
        160.0, 1010.0, system=70.0, iowait=40.0, guest=45.0, steal=9.0)
    registry = CollectorRegistry()
    HostCollector(FakePsutil([first, second]), registry)
    ours = samples(registry)["aivitals_host_cpu_utilization_ratio"]

    sequence = iter([first, second])
    monkeypatch.setattr(psutil, "cpu_times", lambda percpu=False: next(sequence))
    theirs: list[float] = []
    worker = threading.Thread(target=lambda: theirs.append(psutil.cpu_percent(interval=None)))  # a fresh thread:
    worker.start()  # cpu_percent keeps its last sample per thread, so this one compares first and second
    worker.join()

    busy = 60 + 20 + 4  # user, system and steal deltas; guest time is inside user, not added again
    total = busy + 110 + 20  # idle and iowait deltas
    assert ours == busy / total
    if sys.platform.startswith("linux"):  # psutil subtracts guest time on Linux only
        assert round(ours * 100, 1) == theirs[0]


def test_cpu_utilization_is_the_share_between_scrapes_and_never_blocks() -> None:
    fake = FakePsutil([times(10.0, 90.0), times(40.0, 110.0), times(40.0, 110.0), times(40.0, 210.0)])
    registry = CollectorRegistry()
    HostCollector(fake, registry)

    assert samples(registry)["aivitals_host_cpu_utilization_ratio"] == 30 / 50
    assert samples(registry)["aivitals_host_cpu_utilization_ratio"] == 30 / 50  # no time passed: last value stands
    assert samples(registry)["aivitals_host_cpu_utilization_ratio"] == 0.0


def test_cpu_counters_that_go_backwards_cannot_push_the_ratio_out_of_0_to_1() -> None:
    registry = CollectorRegistry()
    HostCollector(FakePsutil([times(10.0, 90.0), times(30.0, 80.0)]), registry)  # idle went back 10 s

    assert samples(registry)["aivitals_host_cpu_utilization_ratio"] == 1.0


def test_a_scrape_with_no_interval_yet_gets_the_share_since_boot() -> None:
    same = times(25.0, 75.0, iowait=0.0)
    registry = CollectorRegistry()
    HostCollector(FakePsutil([same, same]), registry)

    assert samples(registry)["aivitals_host_cpu_utilization_ratio"] == 0.25


def test_memory_utilization_is_used_over_total() -> None:
    registry = CollectorRegistry()
    HostCollector(FakePsutil([times(1, 1), times(2, 2)], memory=(16 * GiB, 4 * GiB)), registry)

    assert samples(registry)["aivitals_host_memory_utilization_ratio"] == 0.75


# --- psutil refusing ---------------------------------------------------------------------------------


def test_access_denied_skips_that_field_counts_it_and_keeps_the_rest() -> None:
    process = FakeProcess({"num_threads": psutil.AccessDenied(pid=1), "memory_info": psutil.AccessDenied(pid=1)})
    registry = CollectorRegistry()
    HostCollector(FakePsutil([times(1, 1), times(2, 2)], process), registry, process_metrics=True)
    got = samples(registry)

    assert "aivitals_process_threads" not in got
    assert "process_resident_memory_bytes" not in got
    assert got["process_cpu_seconds_total"] == 15.75
    assert got["process_open_fds"] == 42
    assert got["aivitals_host_memory_utilization_ratio"] == 0.75
    assert got["aivitals_collector_errors_total[('field', 'process_threads')]"] == 1
    assert got["aivitals_collector_errors_total[('field', 'process_rss')]"] == 1


def test_a_vanished_process_is_counted_and_the_host_is_still_reported() -> None:
    def vanished(pid: int) -> FakeProcess:
        raise psutil.NoSuchProcess(pid)

    registry = CollectorRegistry()
    HostCollector(FakePsutil([times(1, 1), times(2, 2)], vanished), registry, process_metrics=True)
    got = samples(registry)

    assert not [name for name in got if name.startswith(("process_", "aivitals_process_"))]
    assert got["aivitals_host_cpu_utilization_ratio"] == 0.5
    assert got["aivitals_collector_errors_total[('field', 'process_threads')]"] == 1


def test_cpu_times_refused_is_counted_and_the_last_value_kept() -> None:
    class Flaky(FakePsutil):
        def cpu_times(self) -> CpuTimes:
            value = super().cpu_times()
            if value is None:
                raise psutil.AccessDenied()
            return value

    registry = CollectorRegistry()
    HostCollector(Flaky([times(10, 90), times(20, 100), None]), registry)  # type: ignore[list-item]

    assert samples(registry)["aivitals_host_cpu_utilization_ratio"] == 0.5
    got = samples(registry)
    assert got["aivitals_host_cpu_utilization_ratio"] == 0.5
    assert got["aivitals_collector_errors_total[('field', 'host_cpu')]"] == 1


# --- no duplication with prometheus_client's ProcessCollector ------------------------------------------


def test_nothing_is_exported_twice_beside_process_collector() -> None:
    registry = CollectorRegistry()
    standard = ProcessCollector(registry=registry)
    host = HostCollector(registry=registry)

    theirs = {s.name for m in standard.collect() for s in m.samples}
    ours = {s.name for m in host.collect() for s in m.samples}

    assert not theirs & ours
    if sys.platform.startswith("linux"):  # where /proc exists ProcessCollector has all three, so we export none
        assert set(STANDARD_PROCESS) <= theirs
        assert host.standard_process_names == ()
    else:
        assert set(host.standard_process_names) == set(STANDARD_PROCESS) - process_collector_names()


def test_the_process_trio_has_process_collector_names_and_types_where_it_is_exported() -> None:
    registry = CollectorRegistry()
    HostCollector(FakePsutil([times(1, 1), times(2, 2)]), registry, process_metrics=True)
    families = {f.name: f for f in text_string_to_metric_families(generate_latest(registry).decode())}

    assert families["process_cpu_seconds"].type == "counter"
    assert families["process_resident_memory_bytes"].type == "gauge"
    assert families["process_open_fds"].type == "gauge"
    got = samples(registry)
    assert (got["process_cpu_seconds_total"], got["process_resident_memory_bytes"], got["process_open_fds"]) == (
        12.5 + 3.25, 123_456_789, 42)
    if sys.platform.startswith("linux"):
        reference = {f.name: f.type for f in ProcessCollector(registry=None).collect()}
        for name in ("process_cpu_seconds", "process_resident_memory_bytes", "process_open_fds"):
            assert families[name].type == reference[name]
