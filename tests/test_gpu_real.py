"""GpuCollector on real NVML, checked against nvidia-smi on the same machine.

Skipped, with the reason, where there is no nvidia-smi, no nvidia-ml-py, no
driver or no GPU. nvidia-smi is read before and after the scrape; a value that
can move between reads must lie between the two readings, widened by a
tolerance only for power, utilization and clocks, which move on their own.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from aivitals.collectors import GpuCollector

pytestmark = pytest.mark.gpu

QUERY = ("index", "uuid", "name", "memory.total", "memory.used", "power.draw", "temperature.gpu", "clocks.sm",
         "utilization.gpu")
MiB = 2**20


def nvidia_smi() -> list[dict[str, str]]:
    out = subprocess.run(["nvidia-smi", f"--query-gpu={','.join(QUERY)}", "--format=csv,noheader,nounits"],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    return [dict(zip(QUERY, (cell.strip() for cell in line.split(",")), strict=True))
            for line in out.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def nvml() -> Iterator[Any]:
    if shutil.which("nvidia-smi") is None:
        pytest.skip("no nvidia-smi on PATH: this machine has no NVIDIA driver")
    pynvml = pytest.importorskip("pynvml", reason="nvidia-ml-py is not installed")
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError as exc:
        pytest.skip(f"NVML does not start here: {exc}")
    try:
        if pynvml.nvmlDeviceGetCount() == 0:
            pytest.skip("NVML sees no GPU")
        yield pynvml
    finally:
        pynvml.nvmlShutdown()


#: Fields asked one at a time: a driver that does not know one fails only that query, not the test.
OPTIONAL = ("utilization.memory", "memory.free", "ecc.errors.corrected.volatile.total",
            "ecc.errors.uncorrected.volatile.total", "mig.mode.current")


def nvidia_smi_optional() -> dict[str, dict[str, str]]:
    """Each optional field by GPU uuid; a field nvidia-smi refuses here is left out."""
    found: dict[str, dict[str, str]] = {}
    for field in OPTIONAL:
        done = subprocess.run(["nvidia-smi", f"--query-gpu=uuid,{field}", "--format=csv,noheader,nounits"],
                              capture_output=True, text=True, timeout=60, check=False)
        if done.returncode != 0:
            continue
        for line in done.stdout.splitlines():
            if "," in line:
                uuid, value = (cell.strip() for cell in line.split(",", 1))
                found.setdefault(uuid, {})[field] = value
    return found


def number(text: str) -> float | None:
    """A nvidia-smi figure, or None for [N/A] and [Not Supported]."""
    try:
        return float(text)
    except ValueError:
        return None


def between(value: float, readings: list[float | None], tolerance: float = 0.0) -> bool:
    known = [r for r in readings if r is not None]
    return min(known) - tolerance <= value <= max(known) + tolerance


def test_the_collector_agrees_with_nvidia_smi(nvml: Any) -> None:
    registry = CollectorRegistry()
    GpuCollector(registry=registry)  # the default seam: imports pynvml itself
    before = nvidia_smi()
    scraped = [(s.name, s.labels, s.value) for m in registry.collect() for s in m.samples]
    after = {row["uuid"]: row for row in nvidia_smi()}

    def ours(name: str, uuid: str) -> float | None:
        found = [v for n, labels, v in scraped if n == name and labels["uuid"] == uuid and not labels["mig_instance"]]
        return found[0] if found else None

    assert before, "nvidia-smi listed no GPU"
    for row in before:
        uuid, later = row["uuid"], after[row["uuid"]]
        labels = next((lab for _, lab, _ in scraped if lab.get("uuid") == uuid and not lab["mig_instance"]), None)
        assert labels is not None, f"no series for GPU {row['index']}"
        assert (labels["gpu"], labels["gpu_name"]) == (row["index"], row["name"])
        temperature = ours("aivitals_gpu_temperature_celsius", uuid)
        assert temperature is not None and between(temperature, [number(row["temperature.gpu"]),
                                                                 number(later["temperature.gpu"])])
        if number(row["power.draw"]) is not None:
            power = ours("aivitals_gpu_power_watts", uuid)
            assert power is not None
            assert between(power, [number(row["power.draw"]), number(later["power.draw"])],
                           max(15.0, 0.15 * power))
        clock = ours("aivitals_gpu_sm_clock_hertz", uuid)
        assert clock is not None
        assert between(clock / 1e6, [number(row["clocks.sm"]), number(later["clocks.sm"])], max(100.0, clock / 1e7))
        utilization = ours("aivitals_gpu_utilization_ratio", uuid)
        if utilization is not None:  # absent in MIG mode
            assert between(utilization * 100, [number(row["utilization.gpu"]), number(later["utilization.gpu"])], 10)
        total = ours("aivitals_gpu_memory_total_bytes", uuid)
        if total is not None:  # in MIG mode memory is per MIG device
            assert abs(total / MiB - float(row["memory.total"])) < 1
            used = ours("aivitals_gpu_memory_used_bytes", uuid)
            assert used is not None
            assert between(used / MiB, [number(row["memory.used"]), number(later["memory.used"])], 1)
    optional = nvidia_smi_optional()
    again = [(s.name, s.labels, s.value) for m in registry.collect() for s in m.samples]
    for row in before:
        uuid, extra = row["uuid"], optional.get(row["uuid"], {})
        if extra.get("mig.mode.current") == "Enabled":
            assert ours("aivitals_gpu_memory_total_bytes", uuid) is None  # memory is per MIG device in MIG mode
        memory_utilization = ours("aivitals_gpu_memory_utilization_ratio", uuid)
        if memory_utilization is not None and number(extra.get("utilization.memory", "")) is not None:
            assert abs(memory_utilization * 100 - float(extra["utilization.memory"])) <= 10
        free = ours("aivitals_gpu_memory_free_bytes", uuid)
        if free is not None and number(extra.get("memory.free", "")) is not None:
            assert abs(free / MiB - float(extra["memory.free"])) <= 64  # moves with any process on the GPU
        for ecc_type in ("corrected", "uncorrected"):
            smi = number(extra.get(f"ecc.errors.{ecc_type}.volatile.total", ""))
            found = [v for n, labels, v in scraped if n == "aivitals_gpu_ecc_errors_total"
                     and labels["uuid"] == uuid and labels["ecc_type"] == ecc_type]
            if smi is not None:  # ECC on: the same volatile count (errors are rare: equal across the reads)
                assert found == [smi]
        energy = [v for n, labels, v in scraped if n == "aivitals_gpu_energy_joules_total" and labels["uuid"] == uuid]
        energy_again = [v for n, labels, v in again
                        if n == "aivitals_gpu_energy_joules_total" and labels["uuid"] == uuid]
        if energy:  # Volta and newer: a counter in joules since the driver loaded, never going down
            assert energy[0] > 0 and energy_again and energy_again[0] >= energy[0]
    failed = {labels["field"] for n, labels, v in scraped if n == "aivitals_collector_errors_total" and v > 0}
    assert not failed & {"gpu_device", "gpu_nvml", "gpu_internal", "gpu_memory", "gpu_temperature"}
