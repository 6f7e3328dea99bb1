"""Host and process vitals from psutil, read at scrape time.

Exports this process's threads and the host's CPU and memory utilization. On
platforms where ``prometheus_client.ProcessCollector`` exports nothing (it
reads ``/proc``, so everything but Linux) it also exports this process's CPU
seconds, resident memory and open file descriptors under the standard
``process_*`` names; where ProcessCollector exports a name, this never does.

Host CPU utilization never blocks a scrape: it is the busy share of the CPU
time between the previous scrape (or construction) and this one, computed
from ``psutil.cpu_times()`` as ``psutil.cpu_percent`` does, but with our own
previous sample so other callers of ``cpu_percent`` cannot disturb it. A
scrape too soon after construction to see an interval gets the share since
boot rather than a gap.
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar

from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector, CollectorRegistry

from ..families import family, spec
from ..rendered import FamilySpec, Line, RenderedFamily
from .errors import CollectorErrors

T = TypeVar("T")

HOST_CPU = "aivitals_host_cpu_utilization_ratio"
HOST_MEMORY = "aivitals_host_memory_utilization_ratio"
THREADS = "aivitals_process_threads"

#: prometheus_client's standard names (not aivitals metrics, so not in the catalogue).
PROCESS_CPU = "process_cpu_seconds_total"
PROCESS_RSS = "process_resident_memory_bytes"
PROCESS_FDS = "process_open_fds"
STANDARD_PROCESS = (PROCESS_CPU, PROCESS_RSS, PROCESS_FDS)

_STANDARD_SPECS: dict[str, FamilySpec] = {
    PROCESS_CPU: FamilySpec(CounterMetricFamily(PROCESS_CPU, "Total user and system CPU time spent in seconds.")),
    PROCESS_RSS: FamilySpec(GaugeMetricFamily(PROCESS_RSS, "Resident memory size in bytes.")),
    PROCESS_FDS: FamilySpec(GaugeMetricFamily(PROCESS_FDS, "Number of open file descriptors.")),
}
#: The one unlabelled line of each single-sample family, rendered once.
_LINES: dict[str, Line] = {name: Line(name, {}) for name in (HOST_CPU, HOST_MEMORY, THREADS, *STANDARD_PROCESS)}

#: Values of the ``field`` label on ``aivitals_collector_errors_total``.
FIELDS = ("host_cpu", "host_memory", "process_threads", "process_cpu", "process_rss", "process_fds")
#: The field each standard ``process_*`` name is counted under.
_STANDARD_FIELDS = {PROCESS_CPU: "process_cpu", PROCESS_RSS: "process_rss", PROCESS_FDS: "process_fds"}


class _Busy(NamedTuple):
    busy: float
    total: float


def _busy(times: Any) -> _Busy:
    """Busy and total CPU seconds, as psutil counts them (guest time is already in user; iowait is idle)."""
    total = float(sum(times)) - getattr(times, "guest", 0.0) - getattr(times, "guest_nice", 0.0)
    return _Busy(total - times.idle - getattr(times, "iowait", 0.0), total)


def _single(name: str, value: float) -> RenderedFamily:
    return RenderedFamily(spec(name), [(_LINES[name], value)])


def process_collector_names() -> frozenset[str]:
    """Sample names ``ProcessCollector`` exports on this platform (none where there is no /proc)."""
    return frozenset(sample.name for metric in ProcessCollector(registry=None).collect() for sample in metric.samples)


class HostCollector(Collector):
    """Host CPU and memory utilization, this process's threads, and the ``process_*`` trio where missing.

    ``process_metrics``: None exports the standard ``process_*`` names that
    ProcessCollector does not export here; True exports all three, False none.
    """

    def __init__(self, psutil: Any | None = None, registry: CollectorRegistry | None = None, *,
                 errors: CollectorErrors | None = None, process_metrics: bool | None = None) -> None:
        self._psutil = psutil if psutil is not None else importlib.import_module("psutil")
        self._own_errors = errors is None
        self._errors = errors if errors is not None else CollectorErrors()
        if process_metrics is None:
            self._standard = tuple(n for n in STANDARD_PROCESS if n not in process_collector_names())
        else:
            self._standard = STANDARD_PROCESS if process_metrics else ()
        self._lock = threading.Lock()
        self._pid = -1
        self._process: Any = None
        self._last: _Busy | None = None
        self._cpu_ratio: float | None = None
        self._errors.declare(("host_cpu", "host_memory", "process_threads",
                              *(_STANDARD_FIELDS[name] for name in self._standard)))
        self._last = self._read("host_cpu", lambda: _busy(self._psutil.cpu_times()))  # primes the first delta
        if registry is not None:
            registry.register(self)

    @property
    def standard_process_names(self) -> tuple[str, ...]:
        """The ``process_*`` sample names this collector exports on this platform."""
        return self._standard

    def describe(self) -> list[Metric]:
        described: list[Metric] = [family(HOST_CPU, unit=True), family(HOST_MEMORY, unit=True),
                                   family(THREADS, unit=True)]
        described.extend(self._standard_families().values())
        if self._own_errors:
            described.extend(self._errors.describe())
        return described

    def collect(self) -> list[Metric]:
        families: list[Metric] = []
        with self._lock:
            cpu = self._host_cpu()
            if cpu is not None:
                families.append(_single(HOST_CPU, cpu))
            memory = self._read("host_memory", self._host_memory)
            if memory is not None:
                families.append(_single(HOST_MEMORY, memory))
            process = self._read("process_threads", self._current_process)
            if process is not None:
                families.extend(self._process_families(process))
        if self._own_errors:
            families.extend(self._errors.collect())
        return families

    # --- reads ------------------------------------------------------------------------------------

    def _host_cpu(self) -> float | None:
        now = self._read("host_cpu", lambda: _busy(self._psutil.cpu_times()))
        if now is None:
            return self._cpu_ratio
        if self._last is not None and now.total > self._last.total:
            ratio = (now.busy - self._last.busy) / (now.total - self._last.total)
            self._cpu_ratio = min(1.0, max(0.0, ratio))
        elif self._cpu_ratio is None and now.total > 0:
            self._cpu_ratio = now.busy / now.total  # no interval yet: the share since boot, never a gap
        # otherwise no CPU time passed since the last sample, and the last ratio stands
        self._last = now
        return self._cpu_ratio

    def _host_memory(self) -> float:
        memory = self._psutil.virtual_memory()
        return (memory.total - memory.available) / memory.total

    def _current_process(self) -> Any:
        """A psutil Process for this pid, made again after a fork."""
        pid = os.getpid()
        if self._process is None or self._pid != pid:
            self._process, self._pid = self._psutil.Process(pid), pid
        return self._process

    def _process_families(self, process: Any) -> list[Metric]:
        families: list[Metric] = []
        threads = self._read("process_threads", process.num_threads)
        if threads is not None:
            families.append(_single(THREADS, threads))
        standard = self._standard_families()
        if PROCESS_CPU in standard:
            cpu = self._read("process_cpu", process.cpu_times)
            if cpu is not None:
                standard[PROCESS_CPU].rows.append((_LINES[PROCESS_CPU], cpu.user + cpu.system))
        if PROCESS_RSS in standard:
            memory = self._read("process_rss", process.memory_info)
            if memory is not None:
                standard[PROCESS_RSS].rows.append((_LINES[PROCESS_RSS], memory.rss))
        if PROCESS_FDS in standard:
            fds = self._read("process_fds", process.num_fds)  # POSIX only: AttributeError elsewhere, counted
            if fds is not None:
                standard[PROCESS_FDS].rows.append((_LINES[PROCESS_FDS], fds))
        families.extend(f for f in standard.values() if f.rows)
        return families

    def _standard_families(self) -> dict[str, RenderedFamily]:
        """The same names, types and help as ProcessCollector's, for the names this collector owns."""
        return {name: RenderedFamily(_STANDARD_SPECS[name]) for name in self._standard}

    def _read(self, field: str, call: Callable[[], T]) -> T | None:
        """``call()``, or None when psutil refuses (AccessDenied, NoSuchProcess, OSError); counted."""
        try:
            return call()
        except Exception:
            self._errors.inc(field)
            return None
