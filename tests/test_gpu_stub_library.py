"""GpuCollector over the real pynvml bindings, calling a stub libnvidia-ml.so.1 instead of the driver.

The stub (``aivitals/collectors/nvml_stub.c``, whose header tables every
value) is compiled once per module; ``nvml_stub.bound`` points the pynvml
module at it for one test and restores pynvml afterwards. Skipped only where
there is no C compiler.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

pynvml = pytest.importorskip("pynvml", reason="the stub is called through nvidia-ml-py's bindings")

from aivitals.catalogue import LABELS, OTHER  # noqa: E402
from aivitals.collectors import GpuCollector, gpu, nvml_stub  # noqa: E402

GiB = 2**30
MiB = 2**20
NAME = "NVIDIA Stub GPU"
ERRORS = "aivitals_collector_errors_total"


def uuid(index: int) -> str:
    return f"GPU-00000000-stub-0000-0000-{index:012d}"


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("cc") is None and shutil.which("gcc") is None:
        pytest.skip("no C compiler (cc or gcc) on PATH to build the stub libnvidia-ml.so.1")
    return nvml_stub.build(tmp_path_factory.mktemp("nvml_stub"))  # a failed build fails the tests


@pytest.fixture
def nvml(library: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.delenv(nvml_stub.GPUS_ENV, raising=False)
    with nvml_stub.bound(library) as module:
        yield module


def gpu_samples(registry: CollectorRegistry) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    found: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    for family in registry.collect():
        for s in family.samples:
            if s.name.startswith("aivitals_gpu_"):
                key = (s.name, frozenset(s.labels.items()))
                assert key not in found, key
                found[key] = s.value
    return found


def error_fields(registry: CollectorRegistry) -> dict[str, float]:
    return {s.labels["field"]: s.value for family in registry.collect() for s in family.samples if s.name == ERRORS}


def expected_samples(count: int) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every GPU sample the collector should export over the stub: the C file's table, in base units."""
    expected: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    reasons = [reason for reason in LABELS["throttle_reason"].values if reason != OTHER]
    for i in range(count):
        def add(name: str, value: float, i: int = i, **extra: str) -> None:
            labels = {"gpu": str(i), "uuid": uuid(i), "gpu_name": NAME, "mig_instance": "", **extra}
            expected[(name, frozenset(labels.items()))] = value

        add("aivitals_gpu_utilization_ratio", (40 + i) / 100)
        add("aivitals_gpu_memory_utilization_ratio", (20 + i) / 100)
        add("aivitals_gpu_memory_used_bytes", (10 + i) * GiB)  # memory v2: reserved memory is not "used"
        add("aivitals_gpu_memory_free_bytes", 80 * GiB - (10 + i) * GiB - 512 * MiB)
        add("aivitals_gpu_memory_total_bytes", 80 * GiB)
        add("aivitals_gpu_process_memory_used_bytes", (1 + i) * GiB)  # this pid's only, not getpid() + 1's
        add("aivitals_gpu_power_watts", (300_000 + 1000 * i) / 1000)
        add("aivitals_gpu_energy_joules_total", (1_000_000_000 + i) / 1000)
        add("aivitals_gpu_temperature_celsius", 50 + i)
        add("aivitals_gpu_sm_clock_hertz", 1980 * 1_000_000)
        for reason in reasons:
            add("aivitals_gpu_throttled", 1 if (reason == "gpu_idle" and i == 0) else 0, throttle_reason=reason)
        add("aivitals_gpu_throttled", 0, throttle_reason=OTHER)
        add("aivitals_gpu_ecc_errors_total", i, ecc_type="corrected")
        add("aivitals_gpu_ecc_errors_total", 0, ecc_type="uncorrected")
    return expected


def test_real_pynvml_over_the_stub_answers_the_table(nvml: Any) -> None:
    with pytest.raises(nvml.NVMLError_Uninitialized):
        nvml.nvmlDeviceGetCount()
    nvml.nvmlInit()
    try:
        assert nvml.nvmlDeviceGetCount() == 2
        for i in range(2):
            handle = nvml.nvmlDeviceGetHandleByIndex(i)
            assert nvml.nvmlDeviceGetUUID(handle) == uuid(i)
            assert nvml.nvmlDeviceGetName(handle) == NAME
            assert nvml.nvmlDeviceGetPowerUsage(handle) == 300_000 + 1000 * i
            assert nvml.nvmlDeviceGetTotalEnergyConsumption(handle) == 1_000_000_000 + i
            assert nvml.nvmlDeviceGetTemperature(handle, nvml.NVML_TEMPERATURE_GPU) == 50 + i
            assert nvml.nvmlDeviceGetTemperatureV(handle, nvml.NVML_TEMPERATURE_GPU) == 50 + i
            v2 = nvml.nvmlDeviceGetMemoryInfo(handle, version=nvml.nvmlMemory_v2)
            assert (v2.version, v2.total, v2.used, v2.reserved) == (nvml.nvmlMemory_v2, 80 * GiB, (10 + i) * GiB,
                                                                   512 * MiB)
            assert v2.free == v2.total - v2.used - v2.reserved
            v1 = nvml.nvmlDeviceGetMemoryInfo(handle)
            assert (v1.total, v1.used, v1.free) == (80 * GiB, (10 + i) * GiB + 512 * MiB, v2.free)
            processes = [(p.pid, p.usedGpuMemory, p.gpuInstanceId, p.computeInstanceId)
                         for p in nvml.nvmlDeviceGetComputeRunningProcesses(handle)]
            assert processes == [(os.getpid(), (1 + i) * GiB, 0xFFFFFFFF, 0xFFFFFFFF),
                                 (os.getpid() + 1, 2 * GiB, 0xFFFFFFFF, 0xFFFFFFFF)]
            with pytest.raises(nvml.NVMLError_NotSupported):
                nvml.nvmlDeviceGetMigMode(handle)
        with pytest.raises(nvml.NVMLError_InvalidArgument):
            nvml.nvmlDeviceGetHandleByIndex(2)
        with pytest.raises(nvml.NVMLError_InvalidArgument):
            nvml.nvmlDeviceGetPowerUsage(nvml.c_nvmlDevice_t())  # a NULL handle
        with pytest.raises(nvml.NVMLError_ArgumentVersionMismatch):
            nvml.nvmlDeviceGetMemoryInfo(nvml.nvmlDeviceGetHandleByIndex(0), version=0x01000028)
    finally:
        nvml.nvmlShutdown()
    with pytest.raises(nvml.NVMLError_Uninitialized):
        nvml.nvmlShutdown()


def test_init_is_refcounted(nvml: Any) -> None:
    nvml.nvmlInit()
    nvml.nvmlInit()
    nvml.nvmlShutdown()
    assert nvml.nvmlDeviceGetCount() == 2  # one init left
    nvml.nvmlShutdown()
    with pytest.raises(nvml.NVMLError_Uninitialized):
        nvml.nvmlDeviceGetCount()


def test_collector_exports_the_table_with_its_unit_conversions(nvml: Any) -> None:
    registry = CollectorRegistry()
    collector = GpuCollector(nvml=nvml, registry=registry)
    try:
        expected = expected_samples(2)
        assert gpu_samples(registry) == expected
        # MIG mode answers NOT_SUPPORTED on every GPU: by design that is a GPU without MIG, not an error;
        # the stub supports every other field the collector reads, so no field failed.
        assert error_fields(registry) == dict.fromkeys(gpu.FIELDS, 0.0)  # every field declared, none failed
        assert gpu_samples(registry) == expected  # a second scrape (MIG no longer asked) answers the same
        assert error_fields(registry) == dict.fromkeys(gpu.FIELDS, 0.0)
    finally:
        collector.close()
    with pytest.raises(nvml.NVMLError_Uninitialized):  # close() shut NVML down: the collector's init was the only one
        nvml.nvmlDeviceGetCount()


def test_no_gpu_means_no_gpu_series(nvml: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(nvml_stub.GPUS_ENV, "0")
    registry = CollectorRegistry()
    collector = GpuCollector(nvml=nvml, registry=registry)
    assert gpu_samples(registry) == {}
    assert error_fields(registry) == {}  # NVML found no GPU: the GPU collector is off, its fields undeclared
    collector.close()
    nvml.nvmlInit()
    try:
        assert nvml.nvmlDeviceGetCount() == 0
    finally:
        nvml.nvmlShutdown()


def test_bound_restores_pynvml_and_unloads_the_stub(library: Path) -> None:
    before = (pynvml.nvmlLib, pynvml._nvmlGetFunctionPointer_cache, dict(pynvml._nvmlGetFunctionPointer_cache),
              pynvml._nvmlLib_refcount, dict(pynvml.NVMLError._errcode_to_string))
    soname_loaded = nvml_stub.is_loaded(nvml_stub.LIBRARY_NAME)
    with nvml_stub.bound(library) as module:
        assert module is pynvml
        assert pynvml.nvmlLib is not before[0]
        # While loaded, the stub's soname answers any dlopen("libnvidia-ml.so.1"): why bound unloads it.
        assert nvml_stub.is_loaded(nvml_stub.LIBRARY_NAME)
        pynvml.nvmlInit()
        assert pynvml._nvmlLib_refcount == 1
        assert str(pynvml.NVMLError(pynvml.NVML_ERROR_ARGUMENT_VERSION_MISMATCH)) == "Argument version mismatch"
    assert pynvml.nvmlLib is before[0]
    assert pynvml._nvmlGetFunctionPointer_cache is before[1]
    assert pynvml._nvmlGetFunctionPointer_cache == before[2]
    assert pynvml._nvmlLib_refcount == before[3]
    assert pynvml.NVMLError._errcode_to_string == before[4]  # the stub's text for code 25 is forgotten
    assert not nvml_stub.is_loaded(library)
    assert nvml_stub.is_loaded(nvml_stub.LIBRARY_NAME) == soname_loaded


def test_build_reports_a_compiler_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if shutil.which("cc") is None and shutil.which("gcc") is None:
        pytest.skip("no C compiler (cc or gcc) on PATH")
    broken = tmp_path / "nvml_stub.c"
    broken.write_text("this is not C\n")
    monkeypatch.setattr(nvml_stub, "SOURCE", broken)
    with pytest.raises(nvml_stub.StubUnavailable, match="failed to compile"):
        nvml_stub.build(tmp_path / "out")
    assert not (tmp_path / "out" / nvml_stub.LIBRARY_NAME).exists()
