"""GPU vitals read from NVML at scrape time: one custom collector, no background thread.

Every value is read inside ``collect()``, so a scrape shows the GPU as it is
now. The ``nvml`` argument is the seam: it defaults to the ``pynvml`` module of
the ``nvidia-ml-py`` package, imported and initialised on the first scrape;
tests and benchmarks pass a stand-in with the same functions and constants.

Each device gets a reading plan once, when it is first seen: the NVML
functions bound to its handle, each with the rendered line its value goes to.
A scrape runs the plans and does nothing else per field, so it costs little
more than the NVML calls themselves (``benchmarks/scrape.py``).

Failures stay inside: a field a device does not support (NOT_SUPPORTED) or
that fails (GPU_IS_LOST, TIMEOUT, any NVMLError) is skipped and counted in
``aivitals_collector_errors_total{field}``; the other fields and devices are
still reported. NOT_SUPPORTED is counted once per device and field, which is
then dropped from the device's plan until NVML restarts. No library, driver or
GPU means no GPU series and one log line (see ``nvml.py``).
"""

from __future__ import annotations

import functools
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector, CollectorRegistry

from ..catalogue import LABELS, OTHER
from ..families import family, labels_of, spec
from ..rendered import Line, RenderedFamily, Row
from .errors import CollectorErrors
from .nvml import DriverGone, NvmlSession, log

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
          "gpu_process_memory", "gpu_nvml", "gpu_internal", "gpu_busy")

#: How long a scrape waits for one still reading NVML (a hung driver) before it goes on without GPU series.
DEFAULT_BUSY_TIMEOUT = 1.0

#: Retry NVML this long after it failed to start or went away.
DEFAULT_RETRY_INTERVAL = 60.0

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


class _DeviceLost(Exception):
    """The device stopped answering (GPU_IS_LOST): skip its other fields this scrape."""


class _CannotTell(Exception):
    """NVML answered, but without the figure (process memory under WDDM): as NOT_SUPPORTED."""


class _Device:
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
        self.migs: dict[str, _Device] = {}
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


class _Binding:
    """What the collector reads off the NVML module once per session: error codes, classes, throttle bits."""

    __slots__ = ("lost", "masks", "missing", "not_found", "not_supported", "unsupported_errors")

    def __init__(self, nvml: Any) -> None:
        self.masks = _throttle_masks(nvml)
        self.not_supported: int | None = getattr(nvml, "NVML_ERROR_NOT_SUPPORTED", None)
        self.lost: int | None = getattr(nvml, "NVML_ERROR_GPU_IS_LOST", None)
        self.not_found: int | None = getattr(nvml, "NVML_ERROR_NOT_FOUND", None)
        #: Codes that say "not this function on this driver": a reading with an older form tries that one.
        self.missing = frozenset(code for code in (getattr(nvml, name, None) for name in _MISSING) if code is not None)
        mismatch = getattr(nvml, "NVMLLibraryMismatchError", None)  # pynvml's FUNCTION_NOT_FOUND, for some calls
        #: Exceptions that mean "this binding or driver has no such function", counted as NOT_SUPPORTED.
        self.unsupported_errors: tuple[type[BaseException], ...] = (
            AttributeError, _CannotTell, *((mismatch,) if isinstance(mismatch, type) else ()))


def _bound(nvml: Any, name: str, *args: Any) -> Callable[..., Any]:
    """The binding's function ``name`` bound to ``args``; one raising AttributeError if the binding has none."""
    function = getattr(nvml, name, None)
    if function is not None:
        return functools.partial(function, *args)

    def missing() -> Any:
        raise AttributeError(f"the NVML binding has no {name}")

    return missing


# --- what one reading turns into: the samples of the readings that make several -----------------------------


def _utilization(device: _Device) -> Callable[[Any, Rows], None]:
    gpu_line, memory_line = device.lines[UTILIZATION], device.lines[MEMORY_UTILIZATION]

    def emit(rates: Any, rows: Rows) -> None:
        rows[UTILIZATION].append((gpu_line, rates.gpu / 100))  # percent -> ratio
        rows[MEMORY_UTILIZATION].append((memory_line, rates.memory / 100))

    return emit


def _memory(device: _Device) -> Callable[[Any, Rows], None]:
    used, free, total = device.lines[MEMORY_USED], device.lines[MEMORY_FREE], device.lines[MEMORY_TOTAL]

    def emit(info: Any, rows: Rows) -> None:
        rows[MEMORY_USED].append((used, info.used))
        rows[MEMORY_FREE].append((free, info.free))
        rows[MEMORY_TOTAL].append((total, info.total))

    return emit


def _process_memory(device: _Device) -> Callable[[Any, Rows], None]:
    """Device memory of this process; PIDs are the host's, so in a container this needs hostPID."""
    line = device.lines[PROCESS_MEMORY]

    def emit(processes: Any, rows: Rows) -> None:
        pid = os.getpid()  # read each time: the collector may outlive a fork
        mine = [p.usedGpuMemory for p in processes if p.pid == pid]
        if None in mine:  # NVML cannot tell (Windows WDDM)
            raise _CannotTell("process memory")
        rows[PROCESS_MEMORY].append((line, sum(mine)))

    return emit


def _throttle(device: _Device, masks: tuple[tuple[str, int], ...]) -> Callable[[Any, Rows], None]:
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


def _sm_clock(device: _Device) -> Callable[[Any, Rows], None]:
    line = device.lines[SM_CLOCK]

    def emit(mhz: Any, rows: Rows) -> None:
        rows[SM_CLOCK].append((line, int(mhz) * 1_000_000))  # MHz -> Hz, exactly

    return emit


class GpuCollector(Collector):
    """Per-GPU (and per-MIG-device) utilization, memory, power, energy, temperature, clocks and errors.

    ``errors`` is the shared failure counter; when it is not given the
    collector keeps and exports its own (see ``register_collectors``).
    ``busy_timeout``: a scrape that finds another still reading NVML after
    that many seconds (a driver that hangs) exports no GPU series and counts
    ``gpu_busy``, so one stuck call blocks one scrape, not every later one.
    """

    def __init__(self, nvml: Any | None = None, registry: CollectorRegistry | None = None, *,
                 errors: CollectorErrors | None = None, retry_interval: float = DEFAULT_RETRY_INTERVAL,
                 clock: Callable[[], float] = time.monotonic, busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> None:
        self._session = NvmlSession(nvml, retry_interval=retry_interval, clock=clock)
        self._own_errors = errors is None
        self._errors = errors if errors is not None else CollectorErrors()
        self._lock = threading.Lock()
        self._busy_timeout = busy_timeout
        self._declared = False  # the error fields, declared at 0 once NVML is up
        self._devices: dict[int, _Device] = {}
        self._binding: _Binding | None = None  # read off the module once NVML is up
        if registry is not None:
            registry.register(self)

    def describe(self) -> list[Metric]:
        described: list[Metric] = [family(name, unit=True) for name in GPU_METRICS]
        if self._own_errors:
            described.extend(self._errors.describe())
        return described

    def collect(self) -> list[Metric]:
        families: list[Metric] = []
        if self._lock.acquire(timeout=self._busy_timeout):
            try:
                count = self._session.open()
                if count is not None:
                    if not self._declared:
                        self._errors.declare(FIELDS)
                        self._declared = True
                    rows = self._scrape(count)
                    families = [RenderedFamily(spec(name), found) for name, found in rows.items() if found]
            except Exception:  # a bug or a binding we do not know: never into the caller's scrape
                log.debug("aivitals: GPU scrape failed", exc_info=True)
                self._errors.inc("gpu_internal")
            finally:
                self._lock.release()
        else:
            self._errors.inc("gpu_busy")
        if self._own_errors:
            families.extend(self._errors.collect())
        return families

    def close(self) -> None:
        """Shut NVML down; the next scrape starts it again."""
        with self._lock:
            self._session.close()
            self._forget()

    # --- one scrape -----------------------------------------------------------------------------

    def _scrape(self, count: int) -> Rows:
        nvml = self._session.module
        if self._binding is None:
            self._binding = _Binding(nvml)
        rows: Rows = {name: [] for name in GPU_METRICS}
        try:
            for index in range(count):
                try:
                    device = self._devices.get(index) or self._identify_gpu(nvml, index)
                    if device is None:
                        continue
                    mig_on = self._mig_enabled(nvml, device)
                    if mig_on is not device.mig_on:
                        if device.mig_on is not None:  # MIG mode changed: what it did not support may work now
                            device.unsupported.intersection_update({"gpu_mig"})
                        self._plan(nvml, device, whole=not mig_on)
                        device.mig_on = mig_on
                    self._run(device, rows)
                    if mig_on:
                        self._mig_devices(nvml, device, rows)
                except _DeviceLost:
                    continue
        except DriverGone as gone:
            self._errors.inc("gpu_nvml")
            self._session.lose(gone)
            self._forget()
            return {}
        return rows

    def _run(self, device: _Device, rows: Rows) -> None:
        """Every reading of the device's plan; this loop is the collector's hot path."""
        for reading in device.plan:
            field, read, metric, target, divisor = reading
            try:
                value = read()
                if metric is None:
                    target(value, rows)
                elif divisor == 1:
                    rows[metric].append((target, value))
                else:
                    rows[metric].append((target, value / divisor))
            except Exception as exc:
                self._failed(field, exc, device)

    def _forget(self) -> None:
        self._devices.clear()
        self._binding = None

    # --- devices and their plans ----------------------------------------------------------------

    def _identify_gpu(self, nvml: Any, index: int) -> _Device | None:
        try:
            handle = nvml.nvmlDeviceGetHandleByIndex(index)
            uuid, name = _text(nvml.nvmlDeviceGetUUID(handle)), _text(nvml.nvmlDeviceGetName(handle))
        except Exception as exc:
            self._failed("gpu_device", exc)
            return None
        device = self._devices[index] = _Device(handle, str(index), uuid, name)
        return device

    def _plan(self, nvml: Any, device: _Device, *, whole: bool) -> None:
        """Bind the device's readings. ``whole``: a GPU not in MIG mode, or a MIG device, has memory and processes.

        In MIG mode memory and processes are read per MIG device, so sums by gpu do not count twice.
        """
        handle, line = device.handle, device.lines
        readings: list[Reading] = [("gpu_utilization", _bound(nvml, "nvmlDeviceGetUtilizationRates", handle),
                                    None, _utilization(device), 1)]
        if whole:
            memory = _bound(nvml, "nvmlDeviceGetMemoryInfo", handle)
            version = getattr(nvml, "nvmlMemory_v2", None)
            # version 2's used leaves out driver-reserved memory, as nvidia-smi does; version 1's counts it
            forms = (functools.partial(memory, version=version), memory) if version is not None else (memory,)
            readings += [("gpu_memory", self._form(device, "gpu_memory", forms), None, _memory(device), 1),
                         ("gpu_process_memory", _bound(nvml, "nvmlDeviceGetComputeRunningProcesses", handle),
                          None, _process_memory(device), 1)]
        if not device.labels["mig_instance"]:  # a physical GPU
            ecc = getattr(nvml, "NVML_VOLATILE_ECC", None)
            readings += [
                ("gpu_power", _bound(nvml, "nvmlDeviceGetPowerUsage", handle), POWER, line[POWER], 1000),
                ("gpu_energy", _bound(nvml, "nvmlDeviceGetTotalEnergyConsumption", handle), ENERGY,
                 line[ENERGY], 1000),
                ("gpu_temperature", self._form(device, "gpu_temperature", tuple(
                    _bound(nvml, name, handle, getattr(nvml, "NVML_TEMPERATURE_GPU", 0))
                    for name in ("nvmlDeviceGetTemperatureV", "nvmlDeviceGetTemperature"))),  # the latter deprecated
                 TEMPERATURE, line[TEMPERATURE], 1),
                ("gpu_sm_clock", _bound(nvml, "nvmlDeviceGetClockInfo", handle, getattr(nvml, "NVML_CLOCK_SM", 1)),
                 None, _sm_clock(device), 1),
                ("gpu_throttle", self._form(device, "gpu_throttle", tuple(
                    _bound(nvml, name, handle) for name in ("nvmlDeviceGetCurrentClocksEventReasons",  # driver 535+
                                                               "nvmlDeviceGetCurrentClocksThrottleReasons"))),
                 None, _throttle(device, self._read_binding().masks), 1),
            ]
            for ecc_type in ("corrected", "uncorrected"):  # volatile counts: since the driver loaded
                error_type = getattr(nvml, f"NVML_MEMORY_ERROR_TYPE_{ecc_type.upper()}", None)
                readings.append((f"gpu_ecc_{ecc_type}",
                                 _bound(nvml, "nvmlDeviceGetTotalEccErrors", handle, error_type, ecc),
                                 ECC_ERRORS, device.with_label(ECC_ERRORS, "ecc_type", ecc_type), 1))
        device.plan = tuple(r for r in readings if r[0] not in device.unsupported)

    def _form(self, device: _Device, field: str, forms: tuple[Callable[[], Any], ...]) -> Callable[[], Any]:
        """The first of ``forms`` (newest first) this device answers, tried once per device and field.

        Only an answer that says the form is not there (FUNCTION_NOT_FOUND,
        NOT_SUPPORTED, ARGUMENT_VERSION_MISMATCH, DEPRECATED, a binding without
        it) moves on to the next; a form that fails otherwise (a timeout, a lost
        GPU) is kept, and the reading itself counts the failure. The last form
        is taken untried.
        """
        chosen = device.forms.get(field)
        if chosen is None:
            chosen = len(forms) - 1
            for index, form in enumerate(forms[:-1]):
                try:
                    form()
                except Exception as exc:
                    code = self._code_unless_gone(field, exc)
                    binding = self._read_binding()
                    if isinstance(exc, (TypeError, *binding.unsupported_errors)) or code in binding.missing:
                        continue
                chosen = index
                break
            device.forms[field] = chosen
        return forms[chosen]

    def _mig_enabled(self, nvml: Any, gpu: _Device) -> bool:
        """Whether MIG is on; a GPU without MIG (NOT_SUPPORTED) simply has it off, and that is no error."""
        if "gpu_mig" in gpu.unsupported:
            return False
        try:
            current, enabled = nvml.nvmlDeviceGetMigMode(gpu.handle)[0], nvml.NVML_DEVICE_MIG_ENABLE
        except Exception as exc:
            if self._code(exc) == self._read_binding().not_supported:
                gpu.unsupported.add("gpu_mig")
                return False
            self._failed("gpu_mig", exc, gpu)
            return False
        return bool(current == enabled)

    def _mig_devices(self, nvml: Any, gpu: _Device, rows: Rows) -> None:
        """Each MIG device's memory, utilization and processes; the layout is read again every scrape."""
        if gpu.mig_slots is None:
            try:
                gpu.mig_slots = int(nvml.nvmlDeviceGetMaxMigDeviceCount(gpu.handle))
            except Exception as exc:
                self._failed("gpu_mig", exc, gpu)
                return
        seen: set[str] = set()
        for slot in range(gpu.mig_slots):
            try:
                handle = nvml.nvmlDeviceGetMigDeviceHandleByIndex(gpu.handle, slot)
                uuid = _text(nvml.nvmlDeviceGetUUID(handle))
                mig = gpu.migs.get(uuid)
                if mig is None:
                    name, instance = _text(nvml.nvmlDeviceGetName(handle)), nvml.nvmlDeviceGetGpuInstanceId(handle)
                    mig = gpu.migs[uuid] = _Device(handle, gpu.labels["gpu"], uuid, name, str(instance))
            except Exception as exc:
                if self._code(exc) != self._read_binding().not_found:  # NOT_FOUND: an empty slot, no error
                    self._failed("gpu_mig", exc)
                continue
            seen.add(uuid)
            mig.handle = handle  # a handle is valid while its MIG device exists: bind the plan to this one
            self._plan(nvml, mig, whole=True)
            self._run(mig, rows)
        for gone in set(gpu.migs) - seen:  # destroyed MIG devices: their lines and plans go with them
            del gpu.migs[gone]

    # --- failures -------------------------------------------------------------------------------

    def _failed(self, field: str, exc: Exception, device: _Device | None = None) -> None:
        """Count a failed read; drop an unsupported field from the device's plan; end the scrape if NVML went."""
        code = self._code_unless_gone(field, exc)
        self._errors.inc(field)
        if device is None:
            return
        binding = self._read_binding()
        if isinstance(exc, binding.unsupported_errors) or (code is not None and code == binding.not_supported):
            device.unsupported.add(field)
            device.plan = tuple(r for r in device.plan if r[0] != field)
        if code is not None and code == binding.lost:
            raise _DeviceLost(device.uuid) from exc

    def _read_binding(self) -> _Binding:
        """The binding's codes and classes; ``_scrape`` reads them before any device is asked."""
        assert self._binding is not None
        return self._binding

    def _code_unless_gone(self, field: str, exc: BaseException) -> int | None:
        """The NVML error code of ``exc``; DriverGone, ending the scrape, when it says NVML as a whole went."""
        code = self._code(exc)
        if code is not None and code in self._session.gone_codes:
            raise DriverGone(field, exc) from exc
        return code

    def _code(self, exc: BaseException) -> int | None:
        error_class = getattr(self._session.module, "NVMLError", None)
        if isinstance(error_class, type) and isinstance(exc, error_class):
            value = getattr(exc, "value", None)
            return value if isinstance(value, int) else None
        return None
