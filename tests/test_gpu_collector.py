"""GpuCollector against a stand-in for the pynvml module, at the narrowest seam.

The stand-in (``aivitals.collectors.fake_nvml.FakeNvml``) replaces only the
``nvml*`` functions of the pynvml module; its error classes and constants
(error codes, throttle bits, MIG mode) are pynvml's own. Real NVML is checked
against nvidia-smi in ``test_gpu_real.py``.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import threading

import pytest
from prometheus_client import CollectorRegistry, ProcessCollector, generate_latest
from prometheus_client.parser import text_string_to_metric_families

pynvml = pytest.importorskip("pynvml", reason="the fake reuses nvidia-ml-py's errors and constants")

from aivitals.catalogue import METRICS_BY_NAME  # noqa: E402
from aivitals.collectors import GpuCollector, register_collectors  # noqa: E402
from aivitals.collectors.fake_nvml import FakeGpu, FakeMig, FakeNvml, GiB  # noqa: E402
from aivitals.collectors.gpu import FIELDS  # noqa: E402

H100 = "NVIDIA H100 80GB HBM3"
LOGGER = "aivitals.collectors.gpu"


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def gpu_labels(index: int, uuid: str, name: str = H100, mig: str = "", **extra: str) -> dict[str, str]:
    return {"gpu": str(index), "uuid": uuid, "gpu_name": name, "mig_instance": mig, **extra}


def collector(fake: FakeNvml, clock: Clock | None = None) -> tuple[CollectorRegistry, GpuCollector]:
    registry = CollectorRegistry()
    made = GpuCollector(fake, registry, retry_interval=60.0, clock=clock or Clock())
    return registry, made


class Scrape:
    """One scrape of a registry, kept so that reading many values does not scrape again."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.samples = [(s.name, s.labels, s.value) for m in registry.collect() for s in m.samples]

    def value(self, name: str, labels: dict[str, str]) -> float | None:
        found = [v for n, lab, v in self.samples if n == name and lab == labels]
        assert len(found) <= 1
        return found[0] if found else None

    def errors(self, field: str) -> float:
        return self.value("aivitals_collector_errors_total", {"field": field}) or 0.0

    def gpu(self) -> list[tuple[str, dict[str, str], float]]:
        return [sample for sample in self.samples if sample[0].startswith("aivitals_gpu_")]

    def uuids(self) -> set[str]:
        return {labels["uuid"] for _, labels, _ in self.gpu()}


def test_readings_are_converted_to_base_units_exactly() -> None:
    fake = FakeNvml([FakeGpu("GPU-a", gpu_utilization=37, memory_utilization=81, power_mw=123_456,
                             energy_mj=987_654_321, temperature_c=71, sm_clock_mhz=1755,
                             memory_total=80 * GiB, memory_used=3 * GiB + 12_345, memory_reserved=512 * 2**20)])
    registry, _ = collector(fake)
    now = Scrape(registry)
    at = gpu_labels(0, "GPU-a")

    assert now.value("aivitals_gpu_utilization_ratio", at) == 0.37
    assert now.value("aivitals_gpu_memory_utilization_ratio", at) == 0.81
    assert now.value("aivitals_gpu_power_watts", at) == 123.456
    assert now.value("aivitals_gpu_energy_joules_total", at) == 987_654.321
    assert now.value("aivitals_gpu_temperature_celsius", at) == 71
    assert now.value("aivitals_gpu_sm_clock_hertz", at) == 1_755_000_000
    # memory info version 2, as nvidia-smi shows it: used leaves driver-reserved memory out
    assert now.value("aivitals_gpu_memory_used_bytes", at) == 3 * GiB + 12_345
    assert now.value("aivitals_gpu_memory_free_bytes", at) == 80 * GiB - (3 * GiB + 12_345) - 512 * 2**20
    assert now.value("aivitals_gpu_memory_total_bytes", at) == 80 * GiB


def test_every_family_has_the_catalogue_name_type_and_labels() -> None:
    fake = FakeNvml([FakeGpu("GPU-a", processes=[(os.getpid(), GiB)])])
    registry, _ = collector(fake)
    families = {f.name: f for f in text_string_to_metric_families(generate_latest(registry).decode())}
    gpu_families = {name for name in families if name.startswith("aivitals_gpu_")}

    expected = {m.name.removesuffix("_total") for m in METRICS_BY_NAME.values()
                if m.name.startswith("aivitals_gpu_") and m.name != "aivitals_gpu_seconds_total"}
    assert gpu_families == expected
    for name in gpu_families:
        metric = METRICS_BY_NAME.get(name) or METRICS_BY_NAME[name + "_total"]
        assert families[name].type == metric.type.value
        assert families[name].documentation == metric.help
        for sample in families[name].samples:
            assert set(sample.labels) == set(metric.labels), sample


def test_every_gpu_is_reported_under_its_own_labels() -> None:
    fake = FakeNvml([FakeGpu("GPU-a", power_mw=100_000), FakeGpu("GPU-b", name="NVIDIA A100-SXM4-80GB",
                     power_mw=200_000), FakeGpu("GPU-c", name="NVIDIA L4", power_mw=72_000)])
    registry, _ = collector(fake)
    now = Scrape(registry)

    assert now.value("aivitals_gpu_power_watts", gpu_labels(0, "GPU-a")) == 100.0
    assert now.value("aivitals_gpu_power_watts", gpu_labels(1, "GPU-b", "NVIDIA A100-SXM4-80GB")) == 200.0
    assert now.value("aivitals_gpu_power_watts", gpu_labels(2, "GPU-c", "NVIDIA L4")) == 72.0
    temperatures = [labels["uuid"] for name, labels, _ in now.gpu()
                    if name == "aivitals_gpu_temperature_celsius"]
    assert temperatures == ["GPU-a", "GPU-b", "GPU-c"]


def test_nvml_is_initialised_on_the_first_scrape_and_only_once() -> None:
    fake = FakeNvml([FakeGpu("GPU-a")])
    registry, _ = collector(fake)
    assert fake.calls["nvmlInit"] == 0

    for _ in range(3):
        generate_latest(registry)

    assert fake.calls["nvmlInit"] == 1
    assert fake.calls["nvmlDeviceGetCount"] == 1
    assert fake.calls["nvmlDeviceGetUUID"] == 1  # identity is read once, readings on every scrape
    assert fake.calls["nvmlDeviceGetPowerUsage"] == 3


def test_mig_devices_report_memory_and_processes_and_the_gpu_keeps_its_own_readings() -> None:
    mig_name = "NVIDIA A100-SXM4-40GB MIG 3g.20gb"
    a100 = FakeGpu("GPU-m", name="NVIDIA A100-SXM4-40GB", mig_capable=True, mig_enabled=True, power_mw=250_000,
                   memory_total=40 * GiB, mig_slots=[
                       FakeMig("MIG-1", 1, name=mig_name, memory_total=20 * GiB, memory_used=2 * GiB),
                       None,  # an empty slot: NVML answers NOT_FOUND, which is no error
                       FakeMig("MIG-5", 5, name=mig_name, memory_total=20 * GiB, memory_used=7 * GiB,
                               processes=[(os.getpid(), 6 * GiB)]),
                   ])
    plain = FakeGpu("GPU-p")  # no MIG at all: its NOT_SUPPORTED MIG mode is not an error
    fake = FakeNvml([a100, plain])
    registry, _ = collector(fake)
    generate_latest(registry)
    now = Scrape(registry)

    mig1, mig5 = gpu_labels(0, "MIG-1", mig_name, "1"), gpu_labels(0, "MIG-5", mig_name, "5")
    assert now.value("aivitals_gpu_memory_used_bytes", mig1) == 2 * GiB
    assert now.value("aivitals_gpu_memory_total_bytes", mig5) == 20 * GiB
    assert now.value("aivitals_gpu_memory_used_bytes", mig5) == 7 * GiB
    assert now.value("aivitals_gpu_process_memory_used_bytes", mig5) == 6 * GiB
    assert now.value("aivitals_gpu_process_memory_used_bytes", mig1) == 0
    whole = gpu_labels(0, "GPU-m", "NVIDIA A100-SXM4-40GB")
    assert now.value("aivitals_gpu_power_watts", whole) == 250.0
    # memory is per MIG device only, so sum by (gpu) does not count the GPU twice
    assert now.value("aivitals_gpu_memory_used_bytes", whole) is None
    # no utilization per MIG device or in MIG mode: NOT_SUPPORTED, counted once per device, not asked again
    assert not [s for s in now.gpu() if "utilization" in s[0] and s[1]["gpu"] == "0"]
    assert now.value("aivitals_gpu_utilization_ratio", gpu_labels(1, "GPU-p")) == 0.0
    assert now.errors("gpu_utilization") == 3
    assert now.errors("gpu_mig") == 0
    assert fake.calls["nvmlDeviceGetUtilizationRates"] == 3 + 2  # 3 refusals, then the plain GPU per scrape


def test_unsupported_fields_are_skipped_counted_once_and_not_asked_again() -> None:
    fake = FakeNvml([FakeGpu("GPU-a", unsupported={"nvmlDeviceGetTotalEnergyConsumption",
                                                   "nvmlDeviceGetTotalEccErrors"}, power_mw=80_000)])
    registry, _ = collector(fake)
    generate_latest(registry)
    generate_latest(registry)
    now = Scrape(registry)
    at = gpu_labels(0, "GPU-a")

    assert now.value("aivitals_gpu_energy_joules_total", at) is None
    assert now.value("aivitals_gpu_ecc_errors_total", {**at, "ecc_type": "corrected"}) is None
    assert now.value("aivitals_gpu_power_watts", at) == 80.0
    assert now.errors("gpu_energy") == 1
    assert now.errors("gpu_ecc_corrected") == 1
    assert now.errors("gpu_ecc_uncorrected") == 1
    assert fake.calls["nvmlDeviceGetTotalEnergyConsumption"] == 1


def test_a_gpu_lost_in_the_middle_of_a_scrape_does_not_hide_the_others() -> None:
    gpus = [FakeGpu("GPU-a", power_mw=1000), FakeGpu("GPU-b", power_mw=2000), FakeGpu("GPU-c", power_mw=3000)]
    fake = FakeNvml(gpus)
    registry, _ = collector(fake)
    before = len(Scrape(registry).gpu())

    gpus[1].lost = True
    now = Scrape(registry)

    assert now.uuids() == {"GPU-a", "GPU-c"}
    assert len(now.gpu()) == before * 2 // 3
    assert now.value("aivitals_gpu_power_watts", gpu_labels(2, "GPU-c")) == 3.0
    total_errors = sum(v for name, _, v in now.samples if name == "aivitals_collector_errors_total")
    assert total_errors == 1  # its first failed read ends that GPU's scrape: one count, not one per field


def test_a_gpu_lost_before_the_first_scrape_is_counted_and_the_others_reported() -> None:
    gpus = [FakeGpu("GPU-a"), FakeGpu("GPU-b", lost=True)]
    registry, _ = collector(FakeNvml(gpus))
    now = Scrape(registry)

    assert now.uuids() == {"GPU-a"}
    assert now.errors("gpu_device") == 1


def test_a_transient_failure_skips_one_field_for_one_scrape() -> None:
    gpus = [FakeGpu("GPU-a", power_mw=1000), FakeGpu("GPU-b", power_mw=2000)]
    gpus[0].failures["nvmlDeviceGetPowerUsage"] = pynvml.NVML_ERROR_TIMEOUT
    registry, _ = collector(FakeNvml(gpus))
    now = Scrape(registry)

    assert now.value("aivitals_gpu_power_watts", gpu_labels(0, "GPU-a")) is None
    assert now.value("aivitals_gpu_temperature_celsius", gpu_labels(0, "GPU-a")) == 30
    assert now.value("aivitals_gpu_power_watts", gpu_labels(1, "GPU-b")) == 2.0
    assert now.errors("gpu_power") == 1

    del gpus[0].failures["nvmlDeviceGetPowerUsage"]
    now = Scrape(registry)
    assert now.value("aivitals_gpu_power_watts", gpu_labels(0, "GPU-a")) == 1.0
    assert now.errors("gpu_power") == 1


def test_an_exception_that_is_not_an_nvml_error_stays_inside_the_collector() -> None:
    fake = FakeNvml([FakeGpu("GPU-a", power_mw=5000)])

    def broken(handle: object, sensor: int) -> int:
        raise RuntimeError("a binding bug")

    fake.nvmlDeviceGetTemperature = broken  # type: ignore[method-assign]
    registry, _ = collector(fake)
    now = Scrape(registry)

    assert now.value("aivitals_gpu_temperature_celsius", gpu_labels(0, "GPU-a")) is None
    assert now.value("aivitals_gpu_power_watts", gpu_labels(0, "GPU-a")) == 5.0
    assert now.errors("gpu_temperature") == 1


def test_memory_info_falls_back_to_version_1_where_version_2_is_missing() -> None:
    class OldDriver(FakeNvml):
        def nvmlDeviceGetMemoryInfo(self, handle, version=None):  # type: ignore[no-untyped-def]
            if version is not None:
                self.calls["v2"] += 1
                raise pynvml.NVMLError(pynvml.NVML_ERROR_FUNCTION_NOT_FOUND)
            return super().nvmlDeviceGetMemoryInfo(handle)

    fake = OldDriver([FakeGpu("GPU-a", memory_total=16 * GiB, memory_used=GiB, memory_reserved=256 * 2**20)])
    registry, _ = collector(fake)
    generate_latest(registry)
    now = Scrape(registry)
    at = gpu_labels(0, "GPU-a")

    # version 1 counts reserved memory as used
    assert now.value("aivitals_gpu_memory_used_bytes", at) == GiB + 256 * 2**20
    assert now.value("aivitals_gpu_memory_free_bytes", at) == 15 * GiB - 256 * 2**20
    assert now.errors("gpu_memory") == 0
    assert (fake.calls["v2"], fake.calls["nvmlDeviceGetMemoryInfo"]) == (1, 2)  # v2 tried once, then v1 per scrape


def test_process_memory_is_this_process_only() -> None:
    me, other = os.getpid(), os.getpid() + 1
    fake = FakeNvml([FakeGpu("GPU-a", processes=[(me, GiB), (other, 7 * GiB), (me, 2 * GiB)]),
                     FakeGpu("GPU-b", processes=[(other, 5 * GiB)]),
                     FakeGpu("GPU-c", processes=[(me, None)])])  # NVML cannot tell (Windows WDDM)
    registry, _ = collector(fake)
    generate_latest(registry)
    now = Scrape(registry)

    assert now.value("aivitals_gpu_process_memory_used_bytes", gpu_labels(0, "GPU-a")) == 3 * GiB
    assert now.value("aivitals_gpu_process_memory_used_bytes", gpu_labels(1, "GPU-b")) == 0
    assert now.value("aivitals_gpu_process_memory_used_bytes", gpu_labels(2, "GPU-c")) is None
    assert now.errors("gpu_process_memory") == 1


def test_each_declared_throttle_reason_is_one_gauge_and_unknown_bits_are_other() -> None:
    active = (pynvml.nvmlClocksEventReasonSwPowerCap | pynvml.nvmlClocksEventReasonHwThermalSlowdown
              | pynvml.nvmlClocksThrottleReasonReliability)  # not a declared reason: other
    registry, _ = collector(FakeNvml([FakeGpu("GPU-a", throttle_reasons=active)]))
    now = Scrape(registry)
    throttled = {labels["throttle_reason"]: v for name, labels, v in now.gpu()
                 if name == "aivitals_gpu_throttled"}

    assert throttled == {"gpu_idle": 0, "applications_clocks_setting": 0, "sw_power_cap": 1, "hw_slowdown": 0,
                         "sync_boost": 0, "sw_thermal_slowdown": 0, "hw_thermal_slowdown": 1,
                         "hw_power_brake_slowdown": 0, "display_clock_setting": 0, "other": 1}


def test_ecc_errors_are_volatile_counters_by_type() -> None:
    registry, _ = collector(FakeNvml([FakeGpu("GPU-a", ecc_corrected=12, ecc_uncorrected=1)]))
    now = Scrape(registry)
    at = gpu_labels(0, "GPU-a")

    assert now.value("aivitals_gpu_ecc_errors_total", {**at, "ecc_type": "corrected"}) == 12
    assert now.value("aivitals_gpu_ecc_errors_total", {**at, "ecc_type": "uncorrected"}) == 1


def test_without_the_library_there_are_no_gpu_series_and_one_log_line(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    clock = Clock()
    fake = FakeNvml([FakeGpu("GPU-a")], library_found=False)
    registry, _ = collector(fake, clock)

    for seconds in (0, 30, 59, 60, 90, 119, 120):
        clock.now = 1000 + seconds
        now = Scrape(registry)
        assert now.gpu() == []

    assert [r.getMessage() for r in caplog.records if r.name == LOGGER] == [
        "aivitals: GPU metrics off: NVML did not start (NVML Shared Library Not Found); trying again every 60 s"]
    assert fake.calls["nvmlInit"] == 3  # at 0, 60 and 120 s; never on every scrape
    assert now.errors("gpu_nvml") == 0  # a machine without NVIDIA is normal, not an error


def test_without_nvidia_ml_py_installed_the_collector_is_quiet(monkeypatch: pytest.MonkeyPatch,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    monkeypatch.setitem(sys.modules, "pynvml", None)  # import pynvml now raises ImportError
    registry = CollectorRegistry()
    GpuCollector(registry=registry)

    generate_latest(registry)

    assert Scrape(registry).gpu() == []
    messages = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    assert len(messages) == 1 and "nvidia-ml-py" in messages[0]


def test_the_real_binding_on_a_machine_without_nvidia_is_quiet(caplog: pytest.LogCaptureFixture) -> None:
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError:
        pass  # what this test is for: no library or no driver here
    else:
        pynvml.nvmlShutdown()
        pytest.skip("NVML works on this machine; test_gpu_real.py covers it")
    caplog.set_level(logging.INFO, logger=LOGGER)
    registry = CollectorRegistry()
    GpuCollector(registry=registry)

    generate_latest(registry)
    now = Scrape(registry)

    assert now.gpu() == []
    assert [r.levelno for r in caplog.records if r.name == LOGGER] == [logging.INFO]
    assert "GPU metrics off" in caplog.text


def test_a_machine_without_gpus_reports_none_and_leaves_nvml_shut_down(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    fake = FakeNvml([])
    registry, _ = collector(fake)

    assert Scrape(registry).gpu() == []
    assert fake.initialized == 0
    assert "found no GPU" in caplog.text


def test_a_driver_that_goes_away_is_retried_at_most_once_per_interval(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    clock = Clock()
    fake = FakeNvml([FakeGpu("GPU-a"), FakeGpu("GPU-b")])
    registry, _ = collector(fake, clock)
    assert Scrape(registry).uuids() == {"GPU-a", "GPU-b"}

    fake.driver_error = pynvml.NVML_ERROR_DRIVER_NOT_LOADED
    for seconds in (0, 10, 30, 59):
        clock.now = 1000 + seconds
        now = Scrape(registry)
        assert now.gpu() == []
        assert now.errors("gpu_nvml") == 1  # counted once, when it went away
    assert fake.calls["nvmlInit"] == 1

    fake.driver_error = None
    clock.now = 1000 + 59.5
    assert Scrape(registry).gpu() == []  # back, but not asked before the interval is over
    clock.now = 1000 + 61
    assert Scrape(registry).uuids() == {"GPU-a", "GPU-b"}
    assert fake.calls["nvmlInit"] == 2
    messages = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    assert len(messages) == 3, messages  # on, off (once), on again
    assert "stopped answering (Driver Not Loaded)" in messages[1]
    assert caplog.records[1].levelno == logging.WARNING


def test_close_shuts_nvml_down_and_the_next_scrape_starts_it_again() -> None:
    fake = FakeNvml([FakeGpu("GPU-a")])
    registry, made = collector(fake)
    generate_latest(registry)

    made.close()
    assert fake.initialized == 0
    assert Scrape(registry).gpu()
    assert fake.initialized == 1


def test_register_collectors_shares_one_error_counter_and_refuses_twice() -> None:
    registry = CollectorRegistry()
    fake = FakeNvml([FakeGpu("GPU-a", unsupported={"nvmlDeviceGetPowerUsage"})])
    register_collectors(registry, nvml=fake)
    generate_latest(registry)

    exposition = generate_latest(registry).decode()
    assert exposition.count("# TYPE aivitals_collector_errors_total counter") == 1
    now = Scrape(registry)
    assert now.errors("gpu_power") == 1
    assert now.value("aivitals_host_memory_utilization_ratio", {}) is not None

    with pytest.raises(ValueError, match="Duplicated"):
        register_collectors(registry, nvml=fake)
    after = Scrape(registry)
    assert {name for name, _, _ in after.samples} == {name for name, _, _ in now.samples}
    assert after.errors("gpu_power") == 1  # one GPU collector still: the refused one never scraped


def test_concurrent_scrapes_start_nvml_once_and_never_raise() -> None:
    fake = FakeNvml([FakeGpu("GPU-a"), FakeGpu("GPU-b")])
    registry, _ = collector(fake)
    outputs: list[bytes] = []
    failures: list[BaseException] = []

    def scrape_many() -> None:
        try:
            for _ in range(25):
                outputs.append(generate_latest(registry))
        except BaseException as exc:  # a failure in a thread must reach the test
            failures.append(exc)

    threads = [threading.Thread(target=scrape_many) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not failures
    assert len(set(outputs)) == 1 and len(outputs) == 100
    assert fake.calls["nvmlInit"] == 1


@pytest.mark.prometheus
def test_promtool_finds_nothing_to_complain_about_in_the_collectors_exposition() -> None:
    if shutil.which("promtool") is None:
        pytest.skip("promtool is not installed")
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    register_collectors(registry, nvml=FakeNvml([
        FakeGpu("GPU-a", processes=[(os.getpid(), GiB)], unsupported={"nvmlDeviceGetTotalEccErrors"}),
        FakeGpu("GPU-b", mig_capable=True, mig_enabled=True, mig_slots=[FakeMig("MIG-x", 1)]),
    ]))

    result = subprocess.run(["promtool", "check", "metrics"], input=generate_latest(registry),
                            capture_output=True, timeout=30)

    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()
    assert result.stdout.decode().strip() == "" and result.stderr.decode().strip() == ""


def test_a_timeout_on_the_first_memory_read_keeps_version_2() -> None:
    gpu = FakeGpu("GPU-a", memory_total=16 * GiB, memory_used=GiB, memory_reserved=256 * 2**20)
    gpu.failures["nvmlDeviceGetMemoryInfo"] = pynvml.NVML_ERROR_TIMEOUT
    registry, _ = collector(FakeNvml([gpu]))
    first = Scrape(registry)
    at = gpu_labels(0, "GPU-a")
    assert first.value("aivitals_gpu_memory_used_bytes", at) is None
    assert first.errors("gpu_memory") == 1

    del gpu.failures["nvmlDeviceGetMemoryInfo"]
    now = Scrape(registry)

    assert now.value("aivitals_gpu_memory_used_bytes", at) == GiB  # version 2: reserved memory is not used memory
    assert now.errors("gpu_memory") == 1


def test_turning_mig_on_moves_memory_to_the_mig_devices_and_off_brings_it_back() -> None:
    gpu = FakeGpu("GPU-m", mig_capable=True, memory_total=40 * GiB, memory_used=3 * GiB,
                  mig_slots=[FakeMig("MIG-1", 1, memory_total=20 * GiB, memory_used=GiB)])
    fake = FakeNvml([gpu])
    registry, _ = collector(fake)
    whole, mig = gpu_labels(0, "GPU-m"), gpu_labels(0, "MIG-1", "NVIDIA A100-SXM4-40GB MIG 1g.5gb", "1")
    assert Scrape(registry).value("aivitals_gpu_memory_used_bytes", whole) == 3 * GiB

    gpu.mig_enabled = True
    on = Scrape(registry)
    assert on.value("aivitals_gpu_memory_used_bytes", whole) is None
    assert on.value("aivitals_gpu_memory_used_bytes", mig) == GiB

    gpu.mig_enabled = False
    off = Scrape(registry)
    assert off.value("aivitals_gpu_memory_used_bytes", whole) == 3 * GiB
    assert off.value("aivitals_gpu_memory_used_bytes", mig) is None
    assert off.value("aivitals_gpu_utilization_ratio", whole) == 0.0  # not supported in MIG mode only
    assert off.errors("gpu_mig") == 0


def test_a_destroyed_mig_device_disappears_and_a_new_one_in_its_slot_is_reported() -> None:
    gpu = FakeGpu("GPU-m", mig_capable=True, mig_enabled=True,
                  mig_slots=[FakeMig("MIG-1", 1, memory_used=GiB), FakeMig("MIG-2", 2, memory_used=2 * GiB)])
    registry, _ = collector(FakeNvml([gpu]))
    assert {u for u in Scrape(registry).uuids() if u.startswith("MIG")} == {"MIG-1", "MIG-2"}

    gpu.mig_slots[1] = FakeMig("MIG-3", 3, memory_used=5 * GiB)  # destroyed, and another instance made there
    now = Scrape(registry)

    assert {u for u in now.uuids() if u.startswith("MIG")} == {"MIG-1", "MIG-3"}
    assert now.value("aivitals_gpu_memory_used_bytes",
                     gpu_labels(0, "MIG-3", "NVIDIA A100-SXM4-40GB MIG 1g.5gb", "3")) == 5 * GiB
    assert now.errors("gpu_mig") == 0


def test_a_reading_plan_asks_nvml_only_what_it_exports() -> None:
    fake = FakeNvml([FakeGpu("GPU-a", unsupported={"nvmlDeviceGetTotalEccErrors"})])
    registry, _ = collector(fake)
    generate_latest(registry)
    fake.calls.clear()

    generate_latest(registry)

    # one call per exported reading; MIG mode (unsupported) and ECC (unsupported) are not asked again
    assert dict(fake.calls) == {name: 1 for name in (
        "nvmlDeviceGetUtilizationRates", "nvmlDeviceGetMemoryInfo", "nvmlDeviceGetComputeRunningProcesses",
        "nvmlDeviceGetPowerUsage", "nvmlDeviceGetTotalEnergyConsumption", "nvmlDeviceGetTemperature",
        "nvmlDeviceGetClockInfo", "nvmlDeviceGetCurrentClocksEventReasons")}


def test_a_function_the_driver_lacks_is_dropped_like_an_unsupported_one() -> None:
    class OldDriver(FakeNvml):
        def nvmlDeviceGetComputeRunningProcesses(self, handle):  # type: ignore[no-untyped-def]
            self.calls["processes"] += 1  # pynvml's versioned wrapper turns FUNCTION_NOT_FOUND into this
            raise pynvml.NVMLLibraryMismatchError("Unversioned function called")

    fake = OldDriver([FakeGpu("GPU-a", power_mw=1000)])
    registry, _ = collector(fake)
    generate_latest(registry)
    now = Scrape(registry)

    assert now.value("aivitals_gpu_process_memory_used_bytes", gpu_labels(0, "GPU-a")) is None
    assert now.value("aivitals_gpu_power_watts", gpu_labels(0, "GPU-a")) == 1.0
    assert now.errors("gpu_process_memory") == 1
    assert fake.calls["processes"] == 1


def test_a_driver_before_535_is_read_through_the_old_throttle_function() -> None:
    gpu = FakeGpu("GPU-a", throttle_reasons=pynvml.nvmlClocksEventReasonSwPowerCap,
                  failures={"nvmlDeviceGetCurrentClocksEventReasons": pynvml.NVML_ERROR_FUNCTION_NOT_FOUND})
    fake = FakeNvml([gpu])
    registry, _ = collector(fake)
    generate_latest(registry)
    now = Scrape(registry)

    assert now.value("aivitals_gpu_throttled", gpu_labels(0, "GPU-a", throttle_reason="sw_power_cap")) == 1
    assert now.errors("gpu_throttle") == 0
    assert fake.calls["nvmlDeviceGetCurrentClocksEventReasons"] == 1  # tried once, then the old name each scrape
    assert fake.calls["nvmlDeviceGetCurrentClocksThrottleReasons"] == 2


def test_temperature_is_read_through_the_versioned_function_where_the_driver_has_it() -> None:
    class Binding(FakeNvml):
        """A binding with nvmlDeviceGetTemperatureV, which the driver may lack."""

        driver_has_it = True

        def nvmlDeviceGetTemperatureV(self, handle, sensor):  # type: ignore[no-untyped-def]
            h = self._device("nvmlDeviceGetTemperatureV", handle)
            if not self.driver_has_it:
                raise pynvml.NVMLError(pynvml.NVML_ERROR_FUNCTION_NOT_FOUND)
            return h.gpu.temperature_c

    for driver_has_it, calls in ((True, (3, 0)), (False, (1, 2))):  # (V, the deprecated one) over two scrapes
        fake = Binding([FakeGpu("GPU-a", temperature_c=64)])
        fake.driver_has_it = driver_has_it
        registry, _ = collector(fake)
        generate_latest(registry)
        now = Scrape(registry)

        assert now.value("aivitals_gpu_temperature_celsius", gpu_labels(0, "GPU-a")) == 64
        assert now.errors("gpu_temperature") == 0
        assert (fake.calls["nvmlDeviceGetTemperatureV"], fake.calls["nvmlDeviceGetTemperature"]) == calls


def test_a_scrape_stuck_in_nvml_holds_up_one_scrape_not_the_ones_after_it() -> None:
    release, entered = threading.Event(), threading.Event()

    class HangingDriver(FakeNvml):
        def nvmlDeviceGetPowerUsage(self, handle):  # type: ignore[no-untyped-def]
            if threading.current_thread().name == "stuck":
                entered.set()
                release.wait(30)  # a driver call that does not come back
            return super().nvmlDeviceGetPowerUsage(handle)

    fake = HangingDriver([FakeGpu("GPU-a", power_mw=1000)])
    registry = CollectorRegistry()
    GpuCollector(fake, registry, busy_timeout=0.05)
    generate_latest(registry)  # identifies the GPU and builds its plan
    stuck = threading.Thread(target=generate_latest, args=(registry,), name="stuck")
    stuck.start()
    try:
        assert entered.wait(10)
        now = Scrape(registry)
        assert now.gpu() == []
        assert now.errors("gpu_busy") == 1
    finally:
        release.set()
        stuck.join(10)

    after = Scrape(registry)
    assert after.value("aivitals_gpu_power_watts", gpu_labels(0, "GPU-a")) == 1.0
    assert after.errors("gpu_busy") == 1


def test_error_fields_are_exported_at_zero_once_nvml_is_up_so_the_first_failure_shows_in_rate() -> None:
    gpu = FakeGpu("GPU-a")
    registry, _ = collector(FakeNvml([gpu]))
    before = Scrape(registry)
    assert {lab["field"]: v for n, lab, v in before.samples if n == "aivitals_collector_errors_total"} == (
        dict.fromkeys(FIELDS, 0.0))

    gpu.failures["nvmlDeviceGetPowerUsage"] = pynvml.NVML_ERROR_TIMEOUT
    assert Scrape(registry).value("aivitals_collector_errors_total", {"field": "gpu_power"}) == 1.0

    no_gpu, _ = collector(FakeNvml([]))
    assert [s for s in Scrape(no_gpu).samples if s[0] == "aivitals_collector_errors_total"] == []
