"""GPU vitals read from NVML at scrape time: one custom collector, no background thread.

Every value is read inside ``collect()``, so a scrape shows the GPU as it is
now. The ``nvml`` argument is the seam: it defaults to the ``pynvml`` module of
the ``nvidia-ml-py`` package, imported and initialised on the first scrape;
tests and benchmarks pass a stand-in with the same functions and constants.

Failures stay inside: a field a device does not support (NOT_SUPPORTED) or
that fails (GPU_IS_LOST, TIMEOUT, any NVMLError) is skipped and counted in
``aivitals_collector_errors_total{field}``; the other fields and devices are
still reported. NOT_SUPPORTED is counted once per device and field, which is
then not asked again until NVML restarts. No library, driver or GPU means no
GPU series and one log line (see ``_nvml.py``).
"""

from __future__ import annotations

import os
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any, TypeVar

from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector, CollectorRegistry

from .._rendered import Line, RenderedFamily, Row
from ..catalogue import LABELS, OTHER
from ._families import family, labels_of, spec
from ._nvml import DriverGone, NvmlSession, log
from .errors import CollectorErrors

T = TypeVar("T")

UTILIZATION = "aivitals_gpu_utilization_ratio"
MEMORY_UTILIZATION = "aivitals_gpu_memory_utilization_ratio"
MEMORY_USED = "aivitals_gpu_memory_used_bytes"
MEMORY_FREE = "aivitals_gpu_memory_free_bytes"
MEMORY_TOTAL = "aivitals_gpu_memory_total_bytes"
POWER = "aivitals_gpu_power_watts"
ENERGY = "aivitals_gpu_energy_joules_total"
TEMPERATURE = "aivitals_gpu_temperature_celsius"
SM_CLOCK = "aivitals_gpu_sm_clock_hertz"
THROTTLED = "aivitals_gpu_throttled"
ECC_ERRORS = "aivitals_gpu_ecc_errors_total"
PROCESS_MEMORY = "aivitals_gpu_process_memory_used_bytes"

GPU_METRICS = (UTILIZATION, MEMORY_UTILIZATION, MEMORY_USED, MEMORY_FREE, MEMORY_TOTAL, POWER, ENERGY,
               TEMPERATURE, SM_CLOCK, THROTTLED, ECC_ERRORS, PROCESS_MEMORY)
_DEVICE_METRICS = tuple(m for m in GPU_METRICS if m not in (THROTTLED, ECC_ERRORS))  # labelled by device alone

#: Values of the ``field`` label on ``aivitals_collector_errors_total``: a fixed set.
FIELDS = ("gpu_device", "gpu_utilization", "gpu_memory", "gpu_power", "gpu_energy", "gpu_temperature",
          "gpu_sm_clock", "gpu_throttle", "gpu_ecc_corrected", "gpu_ecc_uncorrected", "gpu_mig",
          "gpu_process_memory", "gpu_nvml", "gpu_internal")

#: Retry NVML this long after it failed to start or went away.
DEFAULT_RETRY_INTERVAL = 60.0


class _DeviceLost(Exception):
    """The device stopped answering (GPU_IS_LOST): skip its other fields this scrape."""


#: The labels every GPU series carries, in the catalogue's order: gpu, uuid, gpu_name, mig_instance.
GPU_LABELS = labels_of(POWER)


class _Device:
    """A GPU or MIG device with its label set, built once, and its samples' rendered lines, cached."""

    __slots__ = ("_extended", "_throttle", "handle", "key", "labels", "lines")

    def __init__(self, handle: Any, index: str, uuid: str, name: str, mig_instance: str = "") -> None:
        self.handle = handle
        self.key = uuid
        self.labels: dict[str, str] = dict(zip(GPU_LABELS, (index, uuid, name, mig_instance), strict=True))
        #: The line of each metric carrying just the device's labels, rendered once.
        self.lines: dict[str, Line] = {metric: Line(metric, self.labels) for metric in _DEVICE_METRICS}
        self._extended: dict[tuple[str, str, str], Line] = {}
        self._throttle: tuple[tuple[int, Line], ...] | None = None

    def with_label(self, metric: str, name: str, value: str) -> Line:
        """The line of ``metric`` for this device's labels plus one more (throttle_reason, ecc_type), cached."""
        found = self._extended.get((metric, name, value))
        if found is None:
            found = self._extended[(metric, name, value)] = Line(metric, {**self.labels, name: value})
        return found

    def throttle_lines(self, masks: tuple[tuple[str, int], ...]) -> tuple[tuple[int, Line], ...]:
        """Each throttle reason's bit with its line, for the masks of this NVML session (cached)."""
        if self._throttle is None:
            self._throttle = tuple((mask, self.with_label(THROTTLED, "throttle_reason", reason))
                                   for reason, mask in masks)
        return self._throttle


class _Scrape:
    """The samples of one scrape by family; families with no sample are not exported."""

    def __init__(self) -> None:
        #: Rows of (line, value) by metric, in the order the metrics were first read.
        self.rows: defaultdict[str, list[Row]] = defaultdict(list)

    def add(self, name: str, line: Line, value: float) -> None:
        self.rows[name].append((line, value))

    def families(self) -> list[Metric]:
        return [RenderedFamily(spec(name), rows) for name, rows in self.rows.items()]


def _text(value: Any) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def _throttle_masks(nvml: Any) -> tuple[tuple[str, int], ...]:
    """Each declared throttle reason with its bit, from NVML's own constants (new name, then old)."""
    masks = []
    for reason in LABELS["throttle_reason"].values:
        if reason == OTHER:
            continue
        suffix = "".join(part.capitalize() for part in reason.split("_"))
        mask = getattr(nvml, "nvmlClocksEventReason" + suffix, getattr(nvml, "nvmlClocksThrottleReason" + suffix, None))
        if mask is not None:
            masks.append((reason, int(mask)))
    return tuple(masks)


class GpuCollector(Collector):
    """Per-GPU (and per-MIG-device) utilization, memory, power, energy, temperature, clocks and errors.

    ``errors`` is the shared failure counter; when it is not given the
    collector keeps and exports its own (see ``register_collectors``).
    """

    def __init__(self, nvml: Any | None = None, registry: CollectorRegistry | None = None, *,
                 errors: CollectorErrors | None = None, retry_interval: float = DEFAULT_RETRY_INTERVAL,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._session = NvmlSession(nvml, retry_interval=retry_interval, clock=clock)
        self._own_errors = errors is None
        self._errors = errors if errors is not None else CollectorErrors()
        self._lock = threading.Lock()
        self._devices: dict[int, _Device] = {}
        self._unsupported: set[tuple[str, str]] = set()
        self._memory_v1: set[str] = set()
        self._masks: tuple[tuple[str, int], ...] | None = None
        if registry is not None:
            registry.register(self)

    def describe(self) -> list[Metric]:
        described: list[Metric] = [family(name) for name in GPU_METRICS]
        if self._own_errors:
            described.extend(self._errors.describe())
        return described

    def collect(self) -> list[Metric]:
        scrape = _Scrape()
        with self._lock:
            count = self._session.open()
            if count is not None:
                try:
                    scrape = self._scrape(count)
                except Exception:  # a bug or a binding we do not know: never into the caller's scrape
                    log.debug("aivitals: GPU scrape failed", exc_info=True)
                    self._errors.inc("gpu_internal")
        families = scrape.families()
        if self._own_errors:
            families.extend(self._errors.collect())
        return families

    def close(self) -> None:
        """Shut NVML down; the next scrape starts it again."""
        with self._lock:
            self._session.close()
            self._forget()

    # --- one scrape -----------------------------------------------------------------------------

    def _scrape(self, count: int) -> _Scrape:
        nvml = self._session.module
        if self._masks is None:
            self._masks = _throttle_masks(nvml)
        scrape = _Scrape()
        try:
            for index in range(count):
                try:
                    device = self._device(nvml, index)
                    if device is not None:
                        self._read_gpu(nvml, device, scrape)
                except _DeviceLost:
                    continue
        except DriverGone as gone:
            self._errors.inc("gpu_nvml")
            self._session.lose(gone)
            self._forget()
            return _Scrape()
        return scrape

    def _forget(self) -> None:
        self._devices.clear()
        self._unsupported.clear()
        self._memory_v1.clear()
        self._masks = None

    def _device(self, nvml: Any, index: int) -> _Device | None:
        device = self._devices.get(index)
        if device is None:
            def identify() -> _Device:
                handle = nvml.nvmlDeviceGetHandleByIndex(index)
                uuid, name = _text(nvml.nvmlDeviceGetUUID(handle)), _text(nvml.nvmlDeviceGetName(handle))
                return _Device(handle, str(index), uuid, name)

            device = self._read(f"index:{index}", "gpu_device", identify, cache_unsupported=False)
            if device is not None:
                self._devices[index] = device
        return device

    def _read_gpu(self, nvml: Any, gpu: _Device, scrape: _Scrape) -> None:
        handle, line, key = gpu.handle, gpu.lines, gpu.key
        mig_on = self._mig_enabled(nvml, gpu)
        self._utilization(nvml, gpu, scrape)
        if not mig_on:
            # In MIG mode memory and processes are read per MIG device, so sums by gpu do not count twice.
            self._memory(nvml, gpu, scrape)
            self._process_memory(nvml, gpu, scrape)
        power = self._read(key, "gpu_power", lambda: nvml.nvmlDeviceGetPowerUsage(handle))
        if power is not None:
            scrape.add(POWER, line[POWER], power / 1000)  # mW -> W
        energy = self._read(key, "gpu_energy", lambda: nvml.nvmlDeviceGetTotalEnergyConsumption(handle))
        if energy is not None:
            scrape.add(ENERGY, line[ENERGY], energy / 1000)  # mJ -> J
        temperature = self._read(key, "gpu_temperature",
                                 lambda: nvml.nvmlDeviceGetTemperature(handle, nvml.NVML_TEMPERATURE_GPU))
        if temperature is not None:
            scrape.add(TEMPERATURE, line[TEMPERATURE], temperature)
        clock = self._read(key, "gpu_sm_clock", lambda: nvml.nvmlDeviceGetClockInfo(handle, nvml.NVML_CLOCK_SM))
        if clock is not None:
            scrape.add(SM_CLOCK, line[SM_CLOCK], int(clock) * 1_000_000)  # MHz -> Hz
        self._throttle(nvml, gpu, scrape)
        self._ecc(nvml, gpu, scrape)
        if mig_on:
            self._mig_devices(nvml, gpu, scrape)

    def _mig_enabled(self, nvml: Any, gpu: _Device) -> bool:
        """Whether MIG is on; a GPU without MIG (NOT_SUPPORTED) simply has it off, and that is no error."""
        if (gpu.key, "gpu_mig") in self._unsupported:
            return False
        try:
            current, enabled = nvml.nvmlDeviceGetMigMode(gpu.handle)[0], nvml.NVML_DEVICE_MIG_ENABLE
        except Exception as exc:
            if self._code(nvml, exc) == getattr(nvml, "NVML_ERROR_NOT_SUPPORTED", None):
                self._unsupported.add((gpu.key, "gpu_mig"))
                return False
            self._failed(nvml, gpu.key, "gpu_mig", exc, cache_unsupported=True)
            return False
        return bool(current == enabled)

    def _utilization(self, nvml: Any, device: _Device, scrape: _Scrape) -> None:
        rates = self._read(device.key, "gpu_utilization", lambda: nvml.nvmlDeviceGetUtilizationRates(device.handle))
        if rates is not None:
            scrape.add(UTILIZATION, device.lines[UTILIZATION], rates.gpu / 100)  # percent -> ratio
            scrape.add(MEMORY_UTILIZATION, device.lines[MEMORY_UTILIZATION], rates.memory / 100)

    def _memory(self, nvml: Any, device: _Device, scrape: _Scrape) -> None:
        info = self._read(device.key, "gpu_memory", lambda: self._memory_info(nvml, device))
        if info is not None:
            scrape.add(MEMORY_USED, device.lines[MEMORY_USED], info.used)
            scrape.add(MEMORY_FREE, device.lines[MEMORY_FREE], info.free)
            scrape.add(MEMORY_TOTAL, device.lines[MEMORY_TOTAL], info.total)

    def _memory_info(self, nvml: Any, device: _Device) -> Any:
        """Version 2 first: its ``used`` leaves out driver-reserved memory, as nvidia-smi does."""
        version = getattr(nvml, "nvmlMemory_v2", None)
        if version is not None and device.key not in self._memory_v1:
            try:
                return nvml.nvmlDeviceGetMemoryInfo(device.handle, version=version)
            except Exception as exc:
                code = self._code(nvml, exc)
                if code in self._session.gone_codes or code == getattr(nvml, "NVML_ERROR_GPU_IS_LOST", None):
                    raise
            self._memory_v1.add(device.key)  # an older driver or binding: version 1 from now on
        return nvml.nvmlDeviceGetMemoryInfo(device.handle)

    def _process_memory(self, nvml: Any, device: _Device, scrape: _Scrape) -> None:
        """Device memory of this process; PIDs are the host's, so in a container this needs hostPID."""
        processes = self._read(device.key, "gpu_process_memory",
                               lambda: nvml.nvmlDeviceGetComputeRunningProcesses(device.handle))
        if processes is None:
            return
        pid = os.getpid()
        mine = [p.usedGpuMemory for p in processes if p.pid == pid]
        if any(used is None for used in mine):  # NVML cannot tell (Windows WDDM)
            self._errors.inc("gpu_process_memory")
            self._unsupported.add((device.key, "gpu_process_memory"))
            return
        scrape.add(PROCESS_MEMORY, device.lines[PROCESS_MEMORY], sum(mine))

    def _throttle(self, nvml: Any, gpu: _Device, scrape: _Scrape) -> None:
        def current() -> int:
            read = getattr(nvml, "nvmlDeviceGetCurrentClocksEventReasons", None) or (
                nvml.nvmlDeviceGetCurrentClocksThrottleReasons)  # the name before driver 535
            return int(read(gpu.handle))

        reasons = self._read(gpu.key, "gpu_throttle", current)
        if reasons is None:
            return
        known = 0
        add = scrape.rows[THROTTLED].append
        for mask, line in gpu.throttle_lines(self._masks or ()):
            known |= mask
            add((line, 1 if reasons & mask else 0))
        add((gpu.with_label(THROTTLED, "throttle_reason", OTHER), 1 if reasons & ~known else 0))

    def _ecc(self, nvml: Any, gpu: _Device, scrape: _Scrape) -> None:
        """Volatile counts: errors since the driver loaded, as the catalogue's help says."""
        for ecc_type in ("corrected", "uncorrected"):
            def read(ecc_type: str = ecc_type) -> int:
                error_type = getattr(nvml, f"NVML_MEMORY_ERROR_TYPE_{ecc_type.upper()}")
                return int(nvml.nvmlDeviceGetTotalEccErrors(gpu.handle, error_type, nvml.NVML_VOLATILE_ECC))

            count = self._read(gpu.key, f"gpu_ecc_{ecc_type}", read)
            if count is not None:
                scrape.add(ECC_ERRORS, gpu.with_label(ECC_ERRORS, "ecc_type", ecc_type), count)

    def _mig_devices(self, nvml: Any, gpu: _Device, scrape: _Scrape) -> None:
        slots = self._read(gpu.key, "gpu_mig", lambda: nvml.nvmlDeviceGetMaxMigDeviceCount(gpu.handle)) or 0
        for slot in range(int(slots)):
            try:
                handle = nvml.nvmlDeviceGetMigDeviceHandleByIndex(gpu.handle, slot)
            except Exception as exc:
                if self._code(nvml, exc) != getattr(nvml, "NVML_ERROR_NOT_FOUND", None):  # NOT_FOUND: empty slot
                    self._failed(nvml, gpu.key, "gpu_mig", exc, cache_unsupported=False)
                continue

            def identify(handle: Any = handle) -> _Device:
                uuid, name = _text(nvml.nvmlDeviceGetUUID(handle)), _text(nvml.nvmlDeviceGetName(handle))
                instance = str(nvml.nvmlDeviceGetGpuInstanceId(handle))
                return _Device(handle, gpu.labels["gpu"], uuid, name, instance)

            mig = self._read(f"{gpu.key}/{slot}", "gpu_mig", identify, cache_unsupported=False)
            if mig is None:
                continue
            self._memory(nvml, mig, scrape)
            self._utilization(nvml, mig, scrape)  # NOT_SUPPORTED per MIG device on current drivers
            self._process_memory(nvml, mig, scrape)

    # --- failures -------------------------------------------------------------------------------

    def _read(self, key: str, field: str, call: Callable[[], T], *, cache_unsupported: bool = True) -> T | None:
        """``call()``, or None when it fails; the failure is counted and classified."""
        if (key, field) in self._unsupported:
            return None
        try:
            return call()
        except Exception as exc:
            self._failed(self._session.module, key, field, exc, cache_unsupported=cache_unsupported)
            return None

    def _failed(self, nvml: Any, key: str, field: str, exc: Exception, *, cache_unsupported: bool) -> None:
        code = self._code(nvml, exc)
        if code is not None and code in self._session.gone_codes:
            raise DriverGone(field, exc) from exc
        self._errors.inc(field)
        unsupported = code == getattr(nvml, "NVML_ERROR_NOT_SUPPORTED", None) or isinstance(exc, AttributeError)
        if cache_unsupported and unsupported:
            self._unsupported.add((key, field))
        if code == getattr(nvml, "NVML_ERROR_GPU_IS_LOST", None):
            raise _DeviceLost(key) from exc

    @staticmethod
    def _code(nvml: Any, exc: BaseException) -> int | None:
        error_class = getattr(nvml, "NVMLError", None)
        if isinstance(error_class, type) and isinstance(exc, error_class):
            value = getattr(exc, "value", None)
            return value if isinstance(value, int) else None
        return None
