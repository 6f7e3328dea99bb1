"""The reading plan of one GPU or MIG device: which NVML calls to make and the rendered line each value goes to.

Split from ``gpu.py`` so the collector there does only the scrape and its failures; this module binds
NVML's functions to a device once, which is what keeps a scrape close to the cost of the NVML calls.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any

from ..catalogue import LABELS, OTHER
from ..families import labels_of
from ..rendered import Line, Row

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

#: The labels every GPU series carries, in the catalogue's order: gpu, uuid, gpu_name, mig_instance.
GPU_LABELS = labels_of(POWER)

#: A scrape's samples by metric, in the order of ``GPU_METRICS``.
Rows = dict[str, list[Row]]

#: One NVML read of one device, bound once: ``(field, read, metric, target, divisor)``. With a metric, the
#: value read is appended to that metric's rows under the line ``target``, divided by ``divisor`` unless it
#: is 1. Without one (None), ``target(value, rows)`` appends the samples of a reading that makes several.
Reading = tuple[str, Callable[[], Any], str | None, Any, int]

#: NVML's names of the answers that say "not this function on this driver".
_MISSING = ("NVML_ERROR_FUNCTION_NOT_FOUND", "NVML_ERROR_NOT_SUPPORTED", "NVML_ERROR_ARGUMENT_VERSION_MISMATCH",
            "NVML_ERROR_DEPRECATED")


class DeviceLost(Exception):
    """The device stopped answering (GPU_IS_LOST): skip its other fields this scrape."""


class CannotTell(Exception):
    """NVML answered, but without the figure (process memory under WDDM): as NOT_SUPPORTED."""


class Device:
    """A GPU or MIG device: its label set and rendered lines, built once, and its reading plan."""

    __slots__ = ("_extended", "forms", "handle", "labels", "lines", "mig_on", "mig_slots", "migs", "plan",
                 "unsupported")

    def __init__(self, handle: Any, index: str, uuid: str, name: str, mig_instance: str = "") -> None:
        self.handle = handle
        self.labels: dict[str, str] = dict(zip(GPU_LABELS, (index, uuid, name, mig_instance), strict=True))
        #: The line of each metric carrying just the device's labels, rendered once.
        self.lines: dict[str, Line] = {metric: Line(metric, self.labels) for metric in _DEVICE_METRICS}
        self._extended: dict[tuple[str, str, str], Line] = {}
        #: Readings, as built for the current MIG mode, less the unsupported fields.
        self.plan: tuple[Reading, ...] = ()
        #: Whether ``plan`` is the one for MIG mode on; None until a plan is built.
        self.mig_on: bool | None = None
        #: Fields this device answered NOT_SUPPORTED to: left out of every plan until NVML restarts.
        self.unsupported: set[str] = set()
        #: For a field NVML offers in several forms (newest first), the index of the one this device answers.
        self.forms: dict[str, int] = {}
        #: MIG devices by UUID, and the number of MIG slots (read once per GPU).
        self.migs: dict[str, Device] = {}
        self.mig_slots: int | None = None

    @property
    def uuid(self) -> str:
        return self.labels["uuid"]

    def with_label(self, metric: str, name: str, value: str) -> Line:
        """The line of ``metric`` for this device's labels plus one more (throttle_reason, ecc_type), cached."""
        found = self._extended.get((metric, name, value))
        if found is None:
            found = self._extended[(metric, name, value)] = Line(metric, {**self.labels, name: value})
        return found


def as_text(value: Any) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def throttle_masks(nvml: Any) -> tuple[tuple[str, int], ...]:
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


class Binding:
    """What the collector reads off the NVML module once per session: error codes, classes, throttle bits."""

    __slots__ = ("lost", "masks", "missing", "not_found", "not_supported", "unsupported_errors")

    def __init__(self, nvml: Any) -> None:
        self.masks = throttle_masks(nvml)
        self.not_supported: int | None = getattr(nvml, "NVML_ERROR_NOT_SUPPORTED", None)
        self.lost: int | None = getattr(nvml, "NVML_ERROR_GPU_IS_LOST", None)
        self.not_found: int | None = getattr(nvml, "NVML_ERROR_NOT_FOUND", None)
        #: Codes that say "not this function on this driver": a reading with an older form tries that one.
        self.missing = frozenset(code for code in (getattr(nvml, name, None) for name in _MISSING) if code is not None)
        mismatch = getattr(nvml, "NVMLLibraryMismatchError", None)  # pynvml's FUNCTION_NOT_FOUND, for some calls
        #: Exceptions that mean "this binding or driver has no such function", counted as NOT_SUPPORTED.
        self.unsupported_errors: tuple[type[BaseException], ...] = (
            AttributeError, CannotTell, *((mismatch,) if isinstance(mismatch, type) else ()))


def bound(nvml: Any, name: str, *args: Any) -> Callable[..., Any]:
    """The binding's function ``name`` bound to ``args``; one raising AttributeError if the binding has none."""
    function = getattr(nvml, name, None)
    if function is not None:
        return functools.partial(function, *args)

    def missing() -> Any:
        raise AttributeError(f"the NVML binding has no {name}")

    return missing


# --- what one reading turns into: the samples of the readings that make several -----------------------------


def _utilization(device: Device) -> Callable[[Any, Rows], None]:
    gpu_line, memory_line = device.lines[UTILIZATION], device.lines[MEMORY_UTILIZATION]

    def emit(rates: Any, rows: Rows) -> None:
        rows[UTILIZATION].append((gpu_line, rates.gpu / 100))  # percent -> ratio
        rows[MEMORY_UTILIZATION].append((memory_line, rates.memory / 100))

    return emit


def _memory(device: Device) -> Callable[[Any, Rows], None]:
    used, free, total = device.lines[MEMORY_USED], device.lines[MEMORY_FREE], device.lines[MEMORY_TOTAL]

    def emit(info: Any, rows: Rows) -> None:
        rows[MEMORY_USED].append((used, info.used))
        rows[MEMORY_FREE].append((free, info.free))
        rows[MEMORY_TOTAL].append((total, info.total))

    return emit


def _process_memory(device: Device) -> Callable[[Any, Rows], None]:
    """Device memory of this process; PIDs are the host's, so in a container this needs hostPID."""
    line = device.lines[PROCESS_MEMORY]

    def emit(processes: Any, rows: Rows) -> None:
        pid = os.getpid()  # read each time: the collector may outlive a fork
        mine = [p.usedGpuMemory for p in processes if p.pid == pid]
        if None in mine:  # NVML cannot tell (Windows WDDM)
            raise CannotTell("process memory")
        rows[PROCESS_MEMORY].append((line, sum(mine)))

    return emit


def _throttle(device: Device, masks: tuple[tuple[str, int], ...]) -> Callable[[Any, Rows], None]:
    lines = tuple((mask, device.with_label(THROTTLED, "throttle_reason", reason)) for reason, mask in masks)
    known = functools.reduce(int.__or__, (mask for mask, _ in lines), 0)
    other = device.with_label(THROTTLED, "throttle_reason", OTHER)

    last: list[Any] = [None, ()]  # the last bitmask and its rows: it seldom changes between scrapes

    def emit(reasons: Any, rows: Rows) -> None:
        reasons = int(reasons)
        if reasons != last[0]:
            last[:] = [reasons, (*((line, 1 if reasons & mask else 0) for mask, line in lines),
                                 (other, 1 if reasons & ~known else 0))]
        rows[THROTTLED].extend(last[1])

    return emit


def _sm_clock(device: Device) -> Callable[[Any, Rows], None]:
    line = device.lines[SM_CLOCK]

    def emit(mhz: Any, rows: Rows) -> None:
        rows[SM_CLOCK].append((line, int(mhz) * 1_000_000))  # MHz -> Hz, exactly

    return emit


# --- the plan -----------------------------------------------------------------------------------------------


#: Picks the form of a reading this device answers: ``(device, field, forms newest first) -> form``.
ChooseForm = Callable[[Device, str, tuple[Callable[[], Any], ...]], Callable[[], Any]]


def plan_readings(nvml: Any, device: Device, binding: Binding, choose: ChooseForm, *, whole: bool) -> None:
    """Bind the device's readings. ``whole``: a GPU not in MIG mode, or a MIG device, has memory and processes.

    In MIG mode memory and processes are read per MIG device, so sums by gpu do not count twice. ``choose``
    picks, for a field NVML offers in several forms (newest first), the one this device answers.
    """
    handle, line = device.handle, device.lines
    readings: list[Reading] = [("gpu_utilization", bound(nvml, "nvmlDeviceGetUtilizationRates", handle),
                                None, _utilization(device), 1)]
    if whole:
        memory = bound(nvml, "nvmlDeviceGetMemoryInfo", handle)
        version = getattr(nvml, "nvmlMemory_v2", None)
        # version 2's used leaves out driver-reserved memory, as nvidia-smi does; version 1's counts it
        forms = (functools.partial(memory, version=version), memory) if version is not None else (memory,)
        readings += [("gpu_memory", choose(device, "gpu_memory", forms), None, _memory(device), 1),
                     ("gpu_process_memory", bound(nvml, "nvmlDeviceGetComputeRunningProcesses", handle),
                      None, _process_memory(device), 1)]
    if not device.labels["mig_instance"]:  # a physical GPU
        ecc = getattr(nvml, "NVML_VOLATILE_ECC", None)
        readings += [
            ("gpu_power", bound(nvml, "nvmlDeviceGetPowerUsage", handle), POWER, line[POWER], 1000),
            ("gpu_energy", bound(nvml, "nvmlDeviceGetTotalEnergyConsumption", handle), ENERGY,
             line[ENERGY], 1000),
            ("gpu_temperature", choose(device, "gpu_temperature", tuple(
                bound(nvml, name, handle, getattr(nvml, "NVML_TEMPERATURE_GPU", 0))
                for name in ("nvmlDeviceGetTemperatureV", "nvmlDeviceGetTemperature"))),  # the latter deprecated
             TEMPERATURE, line[TEMPERATURE], 1),
            ("gpu_sm_clock", bound(nvml, "nvmlDeviceGetClockInfo", handle, getattr(nvml, "NVML_CLOCK_SM", 1)),
             None, _sm_clock(device), 1),
            ("gpu_throttle", choose(device, "gpu_throttle", tuple(
                bound(nvml, name, handle) for name in ("nvmlDeviceGetCurrentClocksEventReasons",  # driver 535+
                                                           "nvmlDeviceGetCurrentClocksThrottleReasons"))),
             None, _throttle(device, binding.masks), 1),
        ]
        for ecc_type in ("corrected", "uncorrected"):  # volatile counts: since the driver loaded
            error_type = getattr(nvml, f"NVML_MEMORY_ERROR_TYPE_{ecc_type.upper()}", None)
            readings.append((f"gpu_ecc_{ecc_type}",
                             bound(nvml, "nvmlDeviceGetTotalEccErrors", handle, error_type, ecc),
                             ECC_ERRORS, device.with_label(ECC_ERRORS, "ecc_type", ecc_type), 1))
    device.plan = tuple(r for r in readings if r[0] not in device.unsupported)
