"""The demo's simulated GPU: the real GpuCollector reads it, and its readings follow the work run on it."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry

pytest.importorskip("pynvml", reason="the simulated GPU reuses nvidia-ml-py's errors and constants")

from aivitals.collectors import GpuCollector
from aivitals.demo.gpu import NAME, SimulatedGpu


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def readings(registry: CollectorRegistry) -> dict[str, float]:
    found: dict[str, float] = {}
    for family in registry.collect():
        for s in family.samples:
            if s.name.startswith("aivitals_gpu_") and s.labels.get("throttle_reason", "gpu_idle") == "gpu_idle":
                assert s.labels["gpu_name"] == NAME  # it says it is simulated
                found[s.name] = s.value
    return found


def run_for(gpu: SimulatedGpu, clock: Clock, seconds: float, busy_share: float, steps: int = 20) -> None:
    """Advance the clock by ``seconds``, the GPU busy for ``busy_share`` of each step, updating as the demo does."""
    step = seconds / steps
    for _ in range(steps):
        with gpu.busy():
            clock.now += step * busy_share
        clock.now += step * (1 - busy_share)
        gpu.update()


def test_an_idle_gpu_reads_idle_and_a_busy_one_busy() -> None:
    clock = Clock()
    gpu = SimulatedGpu(clock)
    registry = CollectorRegistry()
    GpuCollector(gpu.nvml, registry)

    clock.now += 10
    gpu.update()
    idle = readings(registry)
    assert idle["aivitals_gpu_utilization_ratio"] == 0
    assert idle["aivitals_gpu_throttled"] == 1  # NVML's idle bit
    assert idle["aivitals_gpu_power_watts"] == pytest.approx(60.0)

    run_for(gpu, clock, 60, busy_share=0.75)
    busy = readings(registry)
    assert busy["aivitals_gpu_utilization_ratio"] == pytest.approx(0.75, abs=0.02)
    assert busy["aivitals_gpu_throttled"] == 0
    assert busy["aivitals_gpu_power_watts"] == pytest.approx(60 + 240 * 0.75, abs=5)
    assert busy["aivitals_gpu_temperature_celsius"] > idle["aivitals_gpu_temperature_celsius"]
    assert busy["aivitals_gpu_memory_used_bytes"] > idle["aivitals_gpu_memory_used_bytes"]
    assert busy["aivitals_gpu_memory_used_bytes"] < busy["aivitals_gpu_memory_total_bytes"]


def test_energy_is_the_integral_of_power_and_never_goes_down() -> None:
    clock = Clock()
    gpu = SimulatedGpu(clock)
    registry = CollectorRegistry()
    GpuCollector(gpu.nvml, registry)
    previous = readings(registry)["aivitals_gpu_energy_joules_total"]
    for share in [0.0] * 5 + [1.0] * 10 + [0.3] * 10 + [0.0] * 5:
        run_for(gpu, clock, 1.0, busy_share=share, steps=1)
        now = readings(registry)
        # each update adds the power it reports times the seconds since the last one (mJ are whole numbers)
        assert now["aivitals_gpu_energy_joules_total"] - previous == pytest.approx(
            now["aivitals_gpu_power_watts"] * 1.0, abs=2e-3)
        assert now["aivitals_gpu_energy_joules_total"] >= previous
        previous = now["aivitals_gpu_energy_joules_total"]


def test_overlapping_calls_keep_it_busy_once_not_twice() -> None:
    clock = Clock()
    gpu = SimulatedGpu(clock)
    registry = CollectorRegistry()
    GpuCollector(gpu.nvml, registry)
    for _ in range(40):
        with gpu.busy(), gpu.busy():  # two calls at once for the whole step
            clock.now += 0.5
        gpu.update()

    assert readings(registry)["aivitals_gpu_utilization_ratio"] == 1.0
