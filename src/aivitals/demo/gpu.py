"""The demo's GPU: a real one where NVML finds it, else one simulated GPU serving the ticket classifier.

The simulated GPU is read by the real ``GpuCollector`` through the pynvml
stand-in (``aivitals.collectors.fake_nvml``), so the GPU dashboard and its
recording rules see the very series a real GPU gives. Its name says it is
simulated. It is busy while a classification runs; utilization, SM clock,
power, energy, temperature and memory follow that, in real time.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from ..collectors.nvml import NvmlSession

NAME = "Simulated GPU (aivitals demo)"
GiB = 2**30

_IDLE_W, _BUSY_W = 60.0, 300.0
_IDLE_C, _BUSY_C = 34.0, 78.0
_IDLE_MHZ, _BUSY_MHZ = 345, 1755
_MODEL_BYTES, _TOTAL_BYTES = 6 * GiB, 24 * GiB
#: Seconds over which utilization is averaged, and over which temperature follows power.
_UTILIZATION_WINDOW, _THERMAL_TIME = 2.0, 20.0


def real_gpu_present() -> bool:
    """Whether NVML answers here with at least one GPU (then the demo reports the real ones)."""
    session = NvmlSession(None, retry_interval=0.0, clock=time.monotonic)
    found = session.open() is not None
    session.close()
    return found


class SimulatedGpu:
    """One simulated GPU; ``busy()`` marks the time a call runs on it; ``nvml`` is what the collector reads."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        from ..collectors.fake_nvml import FakeGpu, FakeNvml  # needs nvidia-ml-py: see available()

        self._clock = clock
        self.gpu = FakeGpu("GPU-5e1f0000-aiv1-7a15-demo-000000000000", name=NAME, memory_total=_TOTAL_BYTES,
                           memory_used=_MODEL_BYTES, memory_reserved=300 * 2**20, power_mw=int(_IDLE_W * 1000),
                           temperature_c=int(_IDLE_C), sm_clock_mhz=_IDLE_MHZ)
        self.nvml: Any = FakeNvml([self.gpu])
        self._lock = threading.Lock()
        self._running = 0
        self._busy_seconds = 0.0
        self._since = clock()
        self._last = self._since
        self._energy_j = 0.0
        self._temperature = _IDLE_C
        self._utilization = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @staticmethod
    def available() -> bool:
        """Whether the stand-in can be built (it reuses nvidia-ml-py's errors and constants)."""
        try:
            import pynvml  # noqa: F401
        except ImportError:
            return False
        return True

    @contextlib.contextmanager
    def busy(self) -> Iterator[None]:
        """The GPU is busy for the length of the block (calls may overlap: busy while any runs)."""
        with self._lock:
            self._settle(self._clock())
            self._running += 1
        try:
            yield
        finally:
            with self._lock:
                self._settle(self._clock())
                self._running -= 1

    def _settle(self, now: float) -> None:
        """Count the time since the last change as busy if any call was running (holding the lock)."""
        if self._running:
            self._busy_seconds += now - self._last
        self._last = now

    def start(self, interval: float = 0.5) -> None:
        """Move the readings on every ``interval`` seconds in a daemon thread, until ``stop``."""
        def run() -> None:
            while not self._stop.wait(interval):
                self.update()

        self._thread = threading.Thread(target=run, name="aivitals-demo-gpu", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def update(self) -> None:
        """Move the readings on to now."""
        with self._lock:
            now = self._clock()
            self._settle(now)
            elapsed = now - self._since
            if elapsed < _UTILIZATION_WINDOW / 4:
                return
            busy, self._busy_seconds, self._since = self._busy_seconds, 0.0, now
        share = min(1.0, busy / elapsed)
        weight = min(1.0, elapsed / _UTILIZATION_WINDOW)
        self._utilization += (share - self._utilization) * weight
        power = _IDLE_W + (_BUSY_W - _IDLE_W) * self._utilization
        self._energy_j += power * elapsed
        target = _IDLE_C + (_BUSY_C - _IDLE_C) * self._utilization
        self._temperature += (target - self._temperature) * min(1.0, elapsed / _THERMAL_TIME)
        gpu = self.gpu
        gpu.gpu_utilization = round(self._utilization * 100)
        gpu.memory_utilization = round(self._utilization * 45)
        gpu.power_mw = int(power * 1000)
        gpu.energy_mj = int(self._energy_j * 1000)
        gpu.temperature_c = round(self._temperature)
        gpu.sm_clock_mhz = round(_IDLE_MHZ + (_BUSY_MHZ - _IDLE_MHZ) * min(1.0, self._utilization * 4))
        gpu.memory_used = _MODEL_BYTES + int(self._utilization * 4 * GiB)  # activations and KV on top of weights
        gpu.throttle_reasons = 0 if busy > 0 else int(self.nvml.nvmlClocksEventReasonGpuIdle)  # NVML's idle bit
