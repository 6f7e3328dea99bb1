"""A stub ``libnvidia-ml.so.1`` for the real ``pynvml`` module: NVML's C ABI over fixed, simulated GPUs.

A narrower seam than ``fake_nvml``: the nvidia-ml-py bindings run unchanged
(ctypes structs, function lookup, return-code checks, versioned structs) and
only the driver's work is missing. ``build`` compiles ``nvml_stub.c`` (its
header comment tables every value the stub answers) with the C compiler;
``bound`` points the pynvml module at the result for the length of a
``with`` block. Used by a test of the collector against the binding's real
signatures and by a benchmark, where a call's cost is a lower bound on real
NVML's: pynvml and ctypes, no driver time. Linux only (ELF soname, dlclose).

Not thread-safe: ``bound`` swaps module-level state of pynvml, so nothing else
in the process may use pynvml while it is entered. For tests and benchmarks.
"""

from __future__ import annotations

import _ctypes
import contextlib
import ctypes
import importlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

SOURCE = Path(__file__).with_name("nvml_stub.c")
LIBRARY_NAME = "libnvidia-ml.so.1"
#: The environment variable the stub reads at init: how many GPUs it has (0..8, default 2).
GPUS_ENV = "AIVITALS_NVML_STUB_GPUS"

_FLAGS = ("-O2", "-shared", "-fPIC", "-Wall", "-Wextra", f"-Wl,-soname,{LIBRARY_NAME}")
_STDERR_LIMIT = 2000


class StubUnavailable(Exception):
    """The stub library cannot be built here: no C compiler, or the compilation failed."""


def build(directory: str | os.PathLike[str]) -> Path:
    """Compile the stub into ``directory/libnvidia-ml.so.1`` and return that path."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        raise StubUnavailable("no C compiler (cc or gcc) on PATH")
    if not SOURCE.is_file():
        raise StubUnavailable(f"the stub's C source is missing: {SOURCE}")
    target = Path(directory) / LIBRARY_NAME
    target.parent.mkdir(parents=True, exist_ok=True)
    # Built beside the target, then moved over it: a loaded copy is never rewritten in place.
    partial = target.with_name(f".{LIBRARY_NAME}.{os.getpid()}.tmp")
    command = [compiler, *_FLAGS, "-o", str(partial), str(SOURCE)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        partial.unlink(missing_ok=True)
        raise StubUnavailable(f"{compiler} could not compile the stub: {exc}") from exc
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        stderr = done.stderr.strip()[:_STDERR_LIMIT]
        raise StubUnavailable(f"{compiler} failed to compile the stub (exit {done.returncode}): {stderr}")
    os.replace(partial, target)
    return target


def is_loaded(library: str | os.PathLike[str]) -> bool:
    """Whether ``library`` (a path, or a bare name matched as dlopen does, soname included) is loaded now.

    Asking does not load it.
    """
    try:
        probe = ctypes.CDLL(str(library), mode=os.RTLD_NOLOAD)
    except OSError:
        return False
    _dlclose(probe)  # RTLD_NOLOAD still took a reference
    return True


@contextlib.contextmanager
def bound(library: str | os.PathLike[str], pynvml_module: Any | None = None) -> Iterator[Any]:
    """The pynvml module (given, or imported) calling the stub ``library`` inside the block.

    On entry the module's library, function-pointer cache, init refcount and
    cache of error texts are saved and the stub is loaded in place of the
    library (NVML itself is not started: call ``nvmlInit`` as usual). On exit
    they are restored as they were and the stub is unloaded (``dlclose``):
    while it is loaded, its soname would answer any ``dlopen("libnvidia-ml.so.1")``
    in the process, pynvml's own included. Handles and function pointers
    taken inside the block must not be used after it.
    """
    pynvml: Any = pynvml_module if pynvml_module is not None else importlib.import_module("pynvml")
    stub = ctypes.CDLL(str(library))
    error_texts: dict[int, str] = pynvml.NVMLError._errcode_to_string
    saved = (pynvml.nvmlLib, pynvml._nvmlGetFunctionPointer_cache, pynvml._nvmlLib_refcount, dict(error_texts))
    with pynvml.libLoadLock:
        pynvml.nvmlLib = stub
        pynvml._nvmlGetFunctionPointer_cache = {}
        pynvml._nvmlLib_refcount = 0
    try:
        yield pynvml
    finally:
        with pynvml.libLoadLock:
            pynvml.nvmlLib, pynvml._nvmlGetFunctionPointer_cache, pynvml._nvmlLib_refcount = saved[:3]
            # Texts of codes pynvml did not know, cached from the stub's nvmlErrorString (the dict is shared).
            error_texts.clear()
            error_texts.update(saved[3])
        _dlclose(stub)


def _dlclose(library: ctypes.CDLL) -> None:
    _ctypes.dlclose(library._handle)
