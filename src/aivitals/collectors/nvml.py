"""NVML's life cycle: load the module once, initialise lazily, give up quietly.

A machine without the library, the driver or a GPU is a normal machine: the
collector then reports nothing and says why in one log line. A driver that
goes away later is handled the same way, and NVML is initialised again at
most once per ``retry_interval`` seconds, never on every scrape.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.metadata
import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger("aivitals.collectors.gpu")

#: Error codes that mean NVML as a whole is gone, not one device or one field.
_DRIVER_GONE = (
    "NVML_ERROR_UNINITIALIZED",
    "NVML_ERROR_DRIVER_NOT_LOADED",
    "NVML_ERROR_LIBRARY_NOT_FOUND",
    "NVML_ERROR_LIB_RM_VERSION_MISMATCH",
)


def describe_error(exc: BaseException) -> str:
    """A short, safe description of an NVML error (its NVML text, else its class)."""
    try:
        text = str(exc)
    except Exception:
        text = ""
    return (text or type(exc).__name__)[:80]


class DriverGone(Exception):
    """NVML stopped answering in the middle of a scrape (raised to end the scrape)."""

    def __init__(self, field: str, cause: BaseException) -> None:
        super().__init__(field)
        self.field = field
        self.cause = cause


class NvmlSession:
    """Holds the ``pynvml`` module and whether NVML is up, with its device count."""

    def __init__(self, nvml: Any | None, *, retry_interval: float, clock: Callable[[], float]) -> None:
        self._module: Any = nvml
        self._absent = False
        self._count: int | None = None
        self._retry_at = float("-inf")
        self._retry_interval = retry_interval
        self._clock = clock
        self._logged: str = ""
        self.gone_codes: frozenset[int] = frozenset()

    @property
    def module(self) -> Any:
        return self._module

    def open(self) -> int | None:
        """The number of GPUs when NVML is up (initialising it when due), else None."""
        if self._count is not None:
            return self._count
        if self._absent or self._clock() < self._retry_at:
            return None
        nvml = self._load()
        if nvml is None:
            return None
        self.gone_codes = frozenset(getattr(nvml, name) for name in _DRIVER_GONE if hasattr(nvml, name))
        try:
            nvml.nvmlInit()
        except Exception as exc:
            self._down(logging.INFO, f"GPU metrics off: NVML did not start ({describe_error(exc)})")
            return None
        try:
            count = int(nvml.nvmlDeviceGetCount())
        except Exception as exc:
            self._shutdown()
            self._down(logging.INFO, f"GPU metrics off: NVML could not count GPUs ({describe_error(exc)})")
            return None
        if count <= 0:
            self._shutdown()
            self._down(logging.INFO, "GPU metrics off: NVML found no GPU")
            return None
        self._count = count
        self._announce("on", logging.INFO, f"GPU metrics on: NVML found {count} GPU(s)")
        return count

    def lose(self, gone: DriverGone) -> None:
        """NVML went away mid-scrape: shut it down and try again after the retry interval."""
        self._shutdown()
        self._count = None
        self._down(logging.WARNING,
                   f"GPU metrics off: NVML stopped answering ({describe_error(gone.cause)}) reading {gone.field}")

    def close(self) -> None:
        """Shut NVML down if it is up; a later ``open`` initialises it again."""
        if self._count is not None:
            self._shutdown()
            self._count = None

    def _load(self) -> Any | None:
        if self._module is not None:
            return self._module
        try:
            self._module = importlib.import_module("pynvml")
        except Exception:
            self._absent = True
            self._announce("off", logging.INFO, "GPU metrics off: the nvidia-ml-py package is not installed "
                                                "(pip install 'aivitals[gpu]')")
            return None
        try:
            importlib.metadata.version("nvidia-ml-py")
        except importlib.metadata.PackageNotFoundError:
            log.warning("aivitals: the pynvml module does not come from nvidia-ml-py (the deprecated 'pynvml' "
                        "package?); install nvidia-ml-py instead")
        return self._module

    def _shutdown(self) -> None:
        with contextlib.suppress(Exception):
            self._module.nvmlShutdown()

    def _down(self, level: int, message: str) -> None:
        self._count = None
        self._retry_at = self._clock() + self._retry_interval
        self._announce("off", level, f"{message}; trying again every {self._retry_interval:g} s")

    def _announce(self, state: str, level: int, message: str) -> None:
        """Log a change between on and off once; failed retries while off stay quiet."""
        if state != self._logged:
            self._logged = state
            log.log(level, "aivitals: %s", message)
