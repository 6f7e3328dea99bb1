"""GPU vitals read from NVML at scrape time: one custom collector, no background thread.

Every value is read inside ``collect()``, so a scrape shows the GPU as it is
now. The ``nvml`` argument is the seam: it defaults to the ``pynvml`` module of
the ``nvidia-ml-py`` package, imported and initialised on the first scrape;
tests and benchmarks pass a stand-in with the same functions and constants.

Each device gets a reading plan once, when it is first seen: the NVML
functions bound to its handle, each with the rendered line its value goes to.
A scrape runs the plans and does nothing else per field, so it costs little
more than the NVML calls themselves (``benchmarks/scrape.py``); the plans are
built in ``gpu_readings.py``, this module runs them and handles what fails.

Failures stay inside: a field a device does not support (NOT_SUPPORTED) or
that fails (GPU_IS_LOST, TIMEOUT, any NVMLError) is skipped and counted in
``aivitals_collector_errors_total{field}``; the other fields and devices are
still reported. NOT_SUPPORTED is counted once per device and field, which is
then dropped from the device's plan until NVML restarts. No library, driver or
GPU means no GPU series and one log line (see ``nvml.py``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector, CollectorRegistry

from ..families import family, spec
from ..rendered import RenderedFamily
from .errors import CollectorErrors
from .gpu_readings import (
    ECC_ERRORS,
    ENERGY,
    GPU_LABELS,
    GPU_METRICS,
    MEMORY_FREE,
    MEMORY_TOTAL,
    MEMORY_USED,
    MEMORY_UTILIZATION,
    POWER,
    PROCESS_MEMORY,
    SM_CLOCK,
    TEMPERATURE,
    THROTTLED,
    UTILIZATION,
    Binding,
    Device,
    DeviceLost,
    Rows,
    as_text,
    plan_readings,
)
from .nvml import DriverGone, NvmlSession, log

#: The metric names stay importable from here, where the collector lived whole.
__all__ = ["DEFAULT_BUSY_TIMEOUT", "DEFAULT_RETRY_INTERVAL", "ECC_ERRORS", "ENERGY", "FIELDS", "GPU_LABELS",
           "GPU_METRICS", "MEMORY_FREE", "MEMORY_TOTAL", "MEMORY_USED", "MEMORY_UTILIZATION", "POWER",
           "PROCESS_MEMORY", "SM_CLOCK", "TEMPERATURE", "THROTTLED", "UTILIZATION", "GpuCollector"]

#: Values of the ``field`` label on ``aivitals_collector_errors_total``: a fixed set.
FIELDS = ("gpu_device", "gpu_utilization", "gpu_memory", "gpu_power", "gpu_energy", "gpu_temperature",
          "gpu_sm_clock", "gpu_throttle", "gpu_ecc_corrected", "gpu_ecc_uncorrected", "gpu_mig",
          "gpu_process_memory", "gpu_nvml", "gpu_internal", "gpu_busy")

#: How long a scrape waits for one still reading NVML (a hung driver) before it goes on without GPU series.
DEFAULT_BUSY_TIMEOUT = 1.0

#: Retry NVML this long after it failed to start or went away.
DEFAULT_RETRY_INTERVAL = 60.0


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
        self._devices: dict[int, Device] = {}
        self._binding: Binding | None = None  # read off the module once NVML is up
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
            self._binding = Binding(nvml)
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
                except DeviceLost:
                    continue
        except DriverGone as gone:
            self._errors.inc("gpu_nvml")
            self._session.lose(gone)
            self._forget()
            return {}
        return rows

    def _run(self, device: Device, rows: Rows) -> None:
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

    def _identify_gpu(self, nvml: Any, index: int) -> Device | None:
        try:
            handle = nvml.nvmlDeviceGetHandleByIndex(index)
            uuid, name = as_text(nvml.nvmlDeviceGetUUID(handle)), as_text(nvml.nvmlDeviceGetName(handle))
        except Exception as exc:
            self._failed("gpu_device", exc)
            return None
        device = self._devices[index] = Device(handle, str(index), uuid, name)
        return device

    def _plan(self, nvml: Any, device: Device, *, whole: bool) -> None:
        """Bind the device's readings (``gpu_readings.plan_readings``), each multi-form field's form chosen here."""
        plan_readings(nvml, device, self._read_binding(), self._form, whole=whole)

    def _form(self, device: Device, field: str, forms: tuple[Callable[[], Any], ...]) -> Callable[[], Any]:
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

    def _mig_enabled(self, nvml: Any, gpu: Device) -> bool:
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

    def _mig_devices(self, nvml: Any, gpu: Device, rows: Rows) -> None:
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
                uuid = as_text(nvml.nvmlDeviceGetUUID(handle))
                mig = gpu.migs.get(uuid)
                if mig is None:
                    name, instance = as_text(nvml.nvmlDeviceGetName(handle)), nvml.nvmlDeviceGetGpuInstanceId(handle)
                    mig = gpu.migs[uuid] = Device(handle, gpu.labels["gpu"], uuid, name, str(instance))
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

    def _failed(self, field: str, exc: Exception, device: Device | None = None) -> None:
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
            raise DeviceLost(device.uuid) from exc

    def _read_binding(self) -> Binding:
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
