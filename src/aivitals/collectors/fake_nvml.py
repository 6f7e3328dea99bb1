"""A stand-in for the ``pynvml`` module: NVML's device functions over simulated GPUs.

This is the narrowest seam the GPU collector has. Only the ``nvml*``
functions are simulated; the error classes and constants (error codes,
throttle bits, MIG mode, the memory struct version) are the real ``pynvml``
module's, so an error raised here is the very class pynvml raises. It needs
the nvidia-ml-py package but no GPU and no driver. Used by the tests, the
scrape benchmark, and demos on machines without a GPU.

Values are given in NVML's own units (percent, mW, mJ, MHz, bytes) so that a
test can check the collector's conversions.
"""

from __future__ import annotations

import collections
import importlib
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

_pynvml: Any = importlib.import_module("pynvml")  # ImportError here: install nvidia-ml-py

GiB = 2**30


@dataclass
class FakeMig:
    """One MIG device (a GPU instance with its compute instance)."""

    uuid: str
    gpu_instance_id: int
    name: str = "NVIDIA A100-SXM4-40GB MIG 1g.5gb"
    memory_total: int = 5 * GiB
    memory_used: int = 0
    memory_reserved: int = 0
    #: (pid, used device memory in bytes or None when NVML cannot tell)
    processes: list[tuple[int, int | None]] = field(default_factory=list)


@dataclass
class FakeGpu:
    """One physical GPU, in NVML's units."""

    uuid: str
    name: str = "NVIDIA H100 80GB HBM3"
    memory_total: int = 80 * GiB
    memory_used: int = 0
    memory_reserved: int = 0
    gpu_utilization: int = 0
    memory_utilization: int = 0
    power_mw: int = 0
    energy_mj: int = 0
    temperature_c: int = 30
    sm_clock_mhz: int = 1980
    throttle_reasons: int = 0
    ecc_corrected: int = 0
    ecc_uncorrected: int = 0
    mig_capable: bool = False
    mig_enabled: bool = False
    #: MIG device slots; None is an empty slot (NVML answers NOT_FOUND).
    mig_slots: list[FakeMig | None] = field(default_factory=list)
    processes: list[tuple[int, int | None]] = field(default_factory=list)
    #: Function names that answer NOT_SUPPORTED on this device.
    unsupported: set[str] = field(default_factory=set)
    #: Function name -> NVML error code it raises on this device (until removed).
    failures: dict[str, int] = field(default_factory=dict)
    #: Every call on this device answers GPU_IS_LOST.
    lost: bool = False


@dataclass(frozen=True)
class _Handle:
    gpu: FakeGpu
    mig: FakeMig | None = None


def _error(code: int) -> Exception:
    error: Exception = _pynvml.NVMLError(code)
    return error


class FakeNvml:
    """Attributes as the ``pynvml`` module has them; ``calls`` counts each function's calls."""

    def __init__(self, gpus: list[FakeGpu], *, library_found: bool = True) -> None:
        self.gpus = gpus
        self.library_found = library_found
        #: When set, every function (nvmlInit included) raises this NVML error code: the driver is gone.
        self.driver_error: int | None = None
        self.initialized = 0
        self.calls: collections.Counter[str] = collections.Counter()

    def __getattr__(self, name: str) -> Any:
        if name.startswith(("NVML", "nvmlClocks", "nvmlMemory_v")):
            return getattr(_pynvml, name)
        raise AttributeError(name)

    # --- library -------------------------------------------------------------------------------

    def _enter(self, name: str) -> None:
        self.calls[name] += 1
        if not self.library_found:
            raise _error(_pynvml.NVML_ERROR_LIBRARY_NOT_FOUND if name == "nvmlInit" else
                         _pynvml.NVML_ERROR_UNINITIALIZED)
        if self.driver_error is not None:
            raise _error(self.driver_error)
        if name != "nvmlInit" and self.initialized <= 0:
            raise _error(_pynvml.NVML_ERROR_UNINITIALIZED)

    def _device(self, name: str, handle: _Handle) -> _Handle:
        self._enter(name)
        gpu = handle.gpu
        if gpu.lost:
            raise _error(_pynvml.NVML_ERROR_GPU_IS_LOST)
        if name in gpu.unsupported:
            raise _error(_pynvml.NVML_ERROR_NOT_SUPPORTED)
        if name in gpu.failures:
            raise _error(gpu.failures[name])
        return handle

    def nvmlInit(self) -> None:
        self._enter("nvmlInit")
        self.initialized += 1

    def nvmlShutdown(self) -> None:
        self._enter("nvmlShutdown")
        self.initialized -= 1

    def nvmlDeviceGetCount(self) -> int:
        self._enter("nvmlDeviceGetCount")
        return len(self.gpus)

    def nvmlDeviceGetHandleByIndex(self, index: int) -> _Handle:
        self._enter("nvmlDeviceGetHandleByIndex")
        if not 0 <= index < len(self.gpus):
            raise _error(_pynvml.NVML_ERROR_INVALID_ARGUMENT)
        return self._device("nvmlDeviceGetHandleByIndex", _Handle(self.gpus[index]))

    # --- identity --------------------------------------------------------------------------------

    def nvmlDeviceGetUUID(self, handle: _Handle) -> str:
        h = self._device("nvmlDeviceGetUUID", handle)
        return h.mig.uuid if h.mig else h.gpu.uuid

    def nvmlDeviceGetName(self, handle: _Handle) -> str:
        h = self._device("nvmlDeviceGetName", handle)
        return h.mig.name if h.mig else h.gpu.name

    # --- readings ----------------------------------------------------------------------------------

    def nvmlDeviceGetMemoryInfo(self, handle: _Handle, version: int | None = None) -> SimpleNamespace:
        h = self._device("nvmlDeviceGetMemoryInfo", handle)
        part: FakeGpu | FakeMig = h.mig or h.gpu
        total, used, reserved = part.memory_total, part.memory_used, part.memory_reserved
        if version is None:  # version 1: reserved memory counts as used
            return SimpleNamespace(total=total, free=total - used - reserved, used=used + reserved)
        if version != _pynvml.nvmlMemory_v2:
            raise _error(_pynvml.NVML_ERROR_ARGUMENT_VERSION_MISMATCH)
        return SimpleNamespace(version=version, total=total, reserved=reserved, free=total - used - reserved,
                               used=used)

    def nvmlDeviceGetUtilizationRates(self, handle: _Handle) -> SimpleNamespace:
        h = self._device("nvmlDeviceGetUtilizationRates", handle)
        if h.mig is not None or h.gpu.mig_enabled:  # as NVML: no utilization per MIG device or in MIG mode
            raise _error(_pynvml.NVML_ERROR_NOT_SUPPORTED)
        return SimpleNamespace(gpu=h.gpu.gpu_utilization, memory=h.gpu.memory_utilization)

    def nvmlDeviceGetPowerUsage(self, handle: _Handle) -> int:
        return self._device("nvmlDeviceGetPowerUsage", handle).gpu.power_mw

    def nvmlDeviceGetTotalEnergyConsumption(self, handle: _Handle) -> int:
        return self._device("nvmlDeviceGetTotalEnergyConsumption", handle).gpu.energy_mj

    def nvmlDeviceGetTemperature(self, handle: _Handle, sensor: int) -> int:
        h = self._device("nvmlDeviceGetTemperature", handle)
        if sensor != _pynvml.NVML_TEMPERATURE_GPU:
            raise _error(_pynvml.NVML_ERROR_INVALID_ARGUMENT)
        return h.gpu.temperature_c

    def nvmlDeviceGetClockInfo(self, handle: _Handle, clock: int) -> int:
        h = self._device("nvmlDeviceGetClockInfo", handle)
        if clock != _pynvml.NVML_CLOCK_SM:
            raise _error(_pynvml.NVML_ERROR_NOT_SUPPORTED)
        return h.gpu.sm_clock_mhz

    def nvmlDeviceGetCurrentClocksEventReasons(self, handle: _Handle) -> int:
        return self._device("nvmlDeviceGetCurrentClocksEventReasons", handle).gpu.throttle_reasons

    def nvmlDeviceGetCurrentClocksThrottleReasons(self, handle: _Handle) -> int:
        """The same reading under its name before driver 535."""
        return self._device("nvmlDeviceGetCurrentClocksThrottleReasons", handle).gpu.throttle_reasons

    def nvmlDeviceGetTotalEccErrors(self, handle: _Handle, error_type: int, counter_type: int) -> int:
        h = self._device("nvmlDeviceGetTotalEccErrors", handle)
        if counter_type != _pynvml.NVML_VOLATILE_ECC:
            raise _error(_pynvml.NVML_ERROR_INVALID_ARGUMENT)  # the fake keeps volatile counts only
        if error_type == _pynvml.NVML_MEMORY_ERROR_TYPE_CORRECTED:
            return h.gpu.ecc_corrected
        if error_type == _pynvml.NVML_MEMORY_ERROR_TYPE_UNCORRECTED:
            return h.gpu.ecc_uncorrected
        raise _error(_pynvml.NVML_ERROR_INVALID_ARGUMENT)

    def nvmlDeviceGetComputeRunningProcesses(self, handle: _Handle) -> list[SimpleNamespace]:
        h = self._device("nvmlDeviceGetComputeRunningProcesses", handle)
        processes = h.mig.processes if h.mig else h.gpu.processes
        return [SimpleNamespace(pid=pid, usedGpuMemory=used) for pid, used in processes]

    # --- MIG ---------------------------------------------------------------------------------------

    def nvmlDeviceGetMigMode(self, handle: _Handle) -> list[int]:
        h = self._device("nvmlDeviceGetMigMode", handle)
        if not h.gpu.mig_capable:
            raise _error(_pynvml.NVML_ERROR_NOT_SUPPORTED)
        mode = _pynvml.NVML_DEVICE_MIG_ENABLE if h.gpu.mig_enabled else _pynvml.NVML_DEVICE_MIG_DISABLE
        return [mode, mode]

    def nvmlDeviceGetMaxMigDeviceCount(self, handle: _Handle) -> int:
        h = self._device("nvmlDeviceGetMaxMigDeviceCount", handle)
        if not h.gpu.mig_capable:
            raise _error(_pynvml.NVML_ERROR_NOT_SUPPORTED)
        return len(h.gpu.mig_slots)

    def nvmlDeviceGetMigDeviceHandleByIndex(self, handle: _Handle, index: int) -> _Handle:
        h = self._device("nvmlDeviceGetMigDeviceHandleByIndex", handle)
        if not h.gpu.mig_enabled or not 0 <= index < len(h.gpu.mig_slots):
            raise _error(_pynvml.NVML_ERROR_INVALID_ARGUMENT)
        mig = h.gpu.mig_slots[index]
        if mig is None:
            raise _error(_pynvml.NVML_ERROR_NOT_FOUND)
        return _Handle(h.gpu, mig)

    def nvmlDeviceGetGpuInstanceId(self, handle: _Handle) -> int:
        h = self._device("nvmlDeviceGetGpuInstanceId", handle)
        if h.mig is None:
            raise _error(_pynvml.NVML_ERROR_INVALID_ARGUMENT)
        return h.mig.gpu_instance_id
