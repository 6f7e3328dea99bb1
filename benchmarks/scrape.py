"""What a scrape costs: generate_latest on aivitals' collectors against a baseline measured in the same run.

Each measurement is an independent function that returns a dict of figures;
``main()`` runs them in turn, prints one line per ratio, and prints one JSON
object, holding every measurement, as its last line.

    PYTHONPATH=src python benchmarks/scrape.py [--seconds 0.1] [--rounds 21]

Measurements:
- ``collector_scrape``: aivitals' ``generate_latest`` (``aivitals.exposition``,
  what its /metrics serves) on a registry holding the GPU collector, against
  calling the same NVML functions directly; the same for the host collector
  and its psutil calls. The GPU side is measured on each NVML this machine
  has: real NVML where a GPU answers; else the real pynvml binding over
  aivitals' stub libnvidia-ml (``aivitals.collectors.nvml_stub``, built with
  the C compiler: all the binding's ctypes work, none of the driver's); and
  the pure-Python stand-in (``aivitals.collectors.fake_nvml``). Target: the
  GPU collector's scrape costs at most 1.2x the direct calls, judged on the
  first of those (``nvml_source``). prometheus_client's own
  ``generate_latest`` on the same registry is timed beside it.
- ``sdk_exposition``: aivitals' ``generate_latest`` on a Tracker holding about
  10,000 exposed samples, against prometheus_client's ``generate_latest`` on a
  registry holding the same samples (same names, labels and values, checked)
  as plain Counter, Histogram and Info metrics. Target: at most 1.0x.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from typing import Any

import prometheus_client
import psutil
from prometheus_client import CollectorRegistry, Counter, Histogram, Info
from prometheus_client import generate_latest as prometheus_generate_latest
from prometheus_client.parser import text_string_to_metric_families

from aivitals import Tracker
from aivitals.catalogue import METRICS_BY_NAME
from aivitals.collectors import GpuCollector, HostCollector
from aivitals.collectors.nvml import NvmlSession
from aivitals.exposition import generate_latest

Figures = dict[str, Any]

TARGET_RATIO = 1.2
SDK_TARGET_RATIO = 1.0
SDK_SAMPLES = 10_000


# --- timing --------------------------------------------------------------------------------------------


def _per_call_seconds(work: Callable[[], object], seconds: float) -> float:
    """Mean seconds per call of ``work`` over about ``seconds`` of calls."""
    calls, start = 0, time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(20):
            work()
        calls += 20
        now = time.perf_counter()
        if now >= deadline:
            return (now - start) / calls


def _fastest(work: dict[str, Callable[[], object]], seconds: float, rounds: int) -> dict[str, float]:
    """The fastest round's per-call seconds of each workload, in interleaved rounds so that load hits all alike.

    The fastest round, not the median: on a shared machine other work only
    ever adds time, so the least is the closest to the code's own cost (as
    ``timeit`` advises), and many short rounds give it more chances.
    """
    for call in work.values():
        call()
    runs: dict[str, list[float]] = {name: [] for name in work}
    for _ in range(rounds):
        for name, call in work.items():
            runs[name].append(_per_call_seconds(call, seconds))
    return {name: min(times) for name, times in runs.items()}


# --- (a) the GPU and host collectors against direct NVML and psutil calls --------------------------------


def _fake_nvml() -> Any:
    """The pure-Python stand-in for the pynvml module, with two simulated H100s (about 1 µs a call)."""
    from aivitals.collectors.fake_nvml import FakeGpu, FakeNvml

    me = os.getpid()
    gpus = [FakeGpu(f"GPU-{i}", power_mw=300_000 + i, energy_mj=10**9, gpu_utilization=50, memory_used=10 * 2**30,
                    processes=[(me, 2**30), (me + 1, 2**31)]) for i in range(2)]
    fake = FakeNvml(gpus)
    fake.nvmlInit()
    return fake


@contextlib.contextmanager
def _nvml_sources() -> Iterator[list[tuple[str, Any]]]:
    """The NVMLs to measure against, best first: real NVML where a GPU answers, else the real pynvml binding
    over aivitals' stub libnvidia-ml (where a C compiler is), and always the pure-Python stand-in."""
    sources: list[tuple[str, Any]] = []
    with contextlib.ExitStack() as stack:
        session = NvmlSession(None, retry_interval=0.0, clock=time.monotonic)  # the collector's own start-up
        if session.open() is not None:
            stack.callback(session.close)
            sources.append(("nvml", session.module))
        if not sources:
            from aivitals.collectors import nvml_stub

            try:
                library = nvml_stub.build(stack.enter_context(tempfile.TemporaryDirectory()))
            except nvml_stub.StubUnavailable as why:
                print(f"no stub libnvidia-ml: {why}", file=sys.stderr)
            else:
                stub = stack.enter_context(nvml_stub.bound(library))
                stub.nvmlInit()
                stack.callback(stub.nvmlShutdown)
                sources.append(("stub-library", stub))
        sources.append(("fake-module", _fake_nvml()))
        yield sources


def _direct_nvml(nvml: Any) -> Callable[[], None]:
    """The NVML calls one GPU collector scrape makes, as plain calls that read out the values the collector
    exports (a struct's fields are part of calling NVML for them); unsupported ones left out, as it does."""
    version = getattr(nvml, "nvmlMemory_v2", None)
    pid = os.getpid()
    calls: list[Callable[[], object]] = []
    for index in range(nvml.nvmlDeviceGetCount()):
        h = nvml.nvmlDeviceGetHandleByIndex(index)

        def utilization(h: Any = h) -> object:
            rates = nvml.nvmlDeviceGetUtilizationRates(h)
            return rates.gpu, rates.memory

        def memory(h: Any = h) -> object:
            info = nvml.nvmlDeviceGetMemoryInfo(h, version=version)
            return info.used, info.free, info.total

        def memory_v1(h: Any = h) -> object:
            info = nvml.nvmlDeviceGetMemoryInfo(h)
            return info.used, info.free, info.total

        # each reading with its older forms after it: the first form that answers is the one timed, as the
        # collector reads the first form a device answers
        readings: list[tuple[Callable[[], object], ...]] = [
            (lambda h=h: nvml.nvmlDeviceGetMigMode(h),),
            (utilization,),
            (memory, memory_v1),
            (lambda h=h: sum(p.usedGpuMemory for p in nvml.nvmlDeviceGetComputeRunningProcesses(h) if p.pid == pid),),
            (lambda h=h: nvml.nvmlDeviceGetPowerUsage(h),),
            (lambda h=h: nvml.nvmlDeviceGetTotalEnergyConsumption(h),),
            (lambda h=h: nvml.nvmlDeviceGetTemperatureV(h, nvml.NVML_TEMPERATURE_GPU),
             lambda h=h: nvml.nvmlDeviceGetTemperature(h, nvml.NVML_TEMPERATURE_GPU)),
            (lambda h=h: nvml.nvmlDeviceGetClockInfo(h, nvml.NVML_CLOCK_SM),),
            (lambda h=h: nvml.nvmlDeviceGetCurrentClocksEventReasons(h),
             lambda h=h: nvml.nvmlDeviceGetCurrentClocksThrottleReasons(h)),
            (lambda h=h: nvml.nvmlDeviceGetTotalEccErrors(h, nvml.NVML_MEMORY_ERROR_TYPE_CORRECTED,
                                                         nvml.NVML_VOLATILE_ECC),),
            (lambda h=h: nvml.nvmlDeviceGetTotalEccErrors(h, nvml.NVML_MEMORY_ERROR_TYPE_UNCORRECTED,
                                                         nvml.NVML_VOLATILE_ECC),),
        ]
        for forms in readings:
            for call in forms:
                try:
                    call()
                except (nvml.NVMLError, AttributeError, TypeError):  # not here: the collector skips it too
                    continue
                calls.append(call)
                break

    def direct() -> None:
        for call in calls:
            call()

    return direct


def _direct_psutil() -> Callable[[], None]:
    """The psutil calls one host collector scrape makes on Linux (ProcessCollector has the process_* trio)."""
    process = psutil.Process(os.getpid())

    def direct() -> None:
        psutil.cpu_times()
        psutil.virtual_memory()
        process.num_threads()

    return direct


class _Frozen:
    """Families collected once: generate_latest on it times the text formatting alone."""

    def __init__(self, families: list[Any]) -> None:
        self._families = families

    def collect(self) -> list[Any]:
        return self._families


def _frozen(registry: CollectorRegistry) -> CollectorRegistry:
    frozen = CollectorRegistry()
    frozen.register(_Frozen(list(registry.collect())))
    return frozen


def _scrape_figures(prefix: str, registry: CollectorRegistry, direct: Callable[[], None], seconds: float,
                    rounds: int, target: float | None = None) -> Figures:
    """A /metrics scrape of ``registry`` against ``direct``, with where the difference goes."""
    frozen = _frozen(registry)
    took = _fastest({
        "scrape": lambda: generate_latest(registry),
        "direct": direct,
        "collect": lambda: list(registry.collect()),  # reading into families, without writing text
        "format": lambda: generate_latest(frozen),  # writing text, without reading
        "prometheus_client": lambda: prometheus_generate_latest(registry),  # the same, by prometheus_client
    }, seconds, rounds)
    once = _frozen(registry)  # one reading, written by both writers: the texts must be equal
    ratio = took["scrape"] / took["direct"]
    figures: Figures = {
        f"{prefix}_samples": sum(len(m.samples) for m in registry.collect()),
        f"{prefix}_scrape_us": round(took["scrape"] * 1e6, 2),
        f"{prefix}_direct_calls_us": round(took["direct"] * 1e6, 2),
        f"{prefix}_collect_only_us": round(took["collect"] * 1e6, 2),
        f"{prefix}_format_only_us": round(took["format"] * 1e6, 2),
        f"{prefix}_prometheus_client_scrape_us": round(took["prometheus_client"] * 1e6, 2),
        f"{prefix}_same_text_as_prometheus_client": generate_latest(once) == prometheus_generate_latest(once),
        f"{prefix}_overhead_us": round((took["scrape"] - took["direct"]) * 1e6, 2),
        f"{prefix}_ratio": round(ratio, 3),
    }
    if target is not None:
        figures[f"{prefix}_meets_target"] = ratio <= target
    return figures


def measure_collector_scrape(seconds: float, rounds: int) -> Figures:
    """(a) aivitals' generate_latest on the GPU and on the host collector vs the NVML and psutil calls they make.

    The target is the GPU collector's, on the best NVML here: real NVML, else
    the real pynvml binding over the stub libnvidia-ml (every binding cost, no
    driver time: real calls only cost more, so its ratio is an upper bound),
    else the pure-Python stand-in (about 1 µs a call: a floor no real NVML has).
    """
    figures: Figures = {}
    with _nvml_sources() as sources:
        for name, nvml in sources:
            registry = CollectorRegistry()
            GpuCollector(nvml, registry)
            figures.update(_scrape_figures(f"gpu_{name.replace('-', '_')}", registry, _direct_nvml(nvml),
                                           seconds, rounds, TARGET_RATIO))
        judged, nvml = sources[0]
        figures["nvml_source"] = judged
        figures["gpus"] = nvml.nvmlDeviceGetCount()
        host = CollectorRegistry()
        HostCollector(registry=host)
        figures.update(_scrape_figures("host", host, _direct_psutil(), seconds, rounds))
    ratio = figures[f"gpu_{judged.replace('-', '_')}_ratio"]
    figures.update({"ratio": ratio, "target_ratio": TARGET_RATIO, "meets_target": ratio <= TARGET_RATIO})
    return figures


# --- (b) the SDK's series against the same samples held by plain prometheus_client metrics ----------------

#: An OpenAI chat completion with usage, so each series exposes token counters and histograms.
RESPONSE = {
    "id": "chatcmpl-1", "object": "chat.completion", "model": "gpt-4o-mini",
    "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "Paris."}}],
    "usage": {"prompt_tokens": 812, "completion_tokens": 96, "total_tokens": 908,
              "prompt_tokens_details": {"cached_tokens": 512}},
}


def _sdk_tracker(samples: int) -> tuple[CollectorRegistry, int]:
    """A Tracker with as many model series as it takes to expose about ``samples`` samples."""
    registry = CollectorRegistry()
    tracker = Tracker(registry, max_models=10_000)
    exposed = index = 0
    while exposed < samples:
        call = tracker.track(model=f"model-{index:05d}", provider="openai")(lambda: RESPONSE)
        for _ in range(3):
            call()
        if index % 10 == 0:
            tracker.record_cache("prompt", index % 20 == 0, model=f"model-{index:05d}")
        index += 1
        if index % 20 == 0 or exposed == 0:
            exposed = sum(len(m.samples) for m in registry.collect())
    return registry, sum(len(m.samples) for m in registry.collect())


def _plain_mirror(source: CollectorRegistry) -> CollectorRegistry:
    """A registry of prometheus_client Counter/Histogram/Info metrics holding the samples ``source`` exposes."""
    plain = CollectorRegistry()
    for family in source.collect():
        spec = METRICS_BY_NAME[family.name + "_total" if family.type == "counter" else family.name]
        labels = list(spec.labels)
        if family.type == "counter":
            counter = Counter(family.name, family.documentation, labels, registry=plain)
            for sample in family.samples:
                counter.labels(**sample.labels).inc(sample.value)
        elif family.type == "histogram":
            buckets = sorted({float(s.labels["le"]) for s in family.samples if s.name.endswith("_bucket")})
            histogram = Histogram(family.name, family.documentation, labels, registry=plain,
                                  buckets=buckets or (1.0,))
            previous: dict[tuple[str, ...], float] = {}
            for sample in family.samples:
                key = tuple(sample.labels[name] for name in labels)
                child = histogram.labels(*key)
                if sample.name.endswith("_bucket"):  # no API sets a histogram's state: the benchmark sets its values
                    index = buckets.index(float(sample.labels["le"])) if sample.labels["le"] != "+Inf" else -1
                    child._buckets[index].set(sample.value - previous.get(key, 0.0))
                    previous[key] = sample.value
                elif sample.name.endswith("_sum"):
                    child._sum.set(sample.value)
        elif family.type == "info":
            Info(family.name, family.documentation, registry=plain).info(family.samples[0].labels)
    return plain


def _parsed(text: bytes) -> set[tuple[str, tuple[tuple[str, str], ...], float]]:
    return {(s.name, tuple(sorted(s.labels.items())), s.value)
            for f in text_string_to_metric_families(text.decode()) for s in f.samples}


def measure_sdk_exposition(seconds: float, rounds: int) -> Figures:
    """(b) aivitals' generate_latest on ~10,000 SDK samples vs prometheus_client's on the same plain metrics."""
    prometheus_client.disable_created_metrics()  # the SDK exposes no _created samples; the baseline neither
    try:
        registry, samples = _sdk_tracker(SDK_SAMPLES)
        plain = _plain_mirror(registry)
        ours, theirs = generate_latest(registry), prometheus_generate_latest(plain)
        took = _fastest({
            "aivitals": lambda: generate_latest(registry),
            "prometheus_client": lambda: prometheus_generate_latest(plain),
            # the tracker's registry served by prometheus_client's writer, for comparison
            "prometheus_client_on_tracker": lambda: prometheus_generate_latest(registry),
        }, seconds, rounds)
    finally:
        prometheus_client.enable_created_metrics()
    ours_s, theirs_s = took["aivitals"], took["prometheus_client"]
    return {
        "samples": samples,
        "same_samples": _parsed(ours) == _parsed(theirs),
        "aivitals_ms": round(ours_s * 1e3, 3),
        "prometheus_client_ms": round(theirs_s * 1e3, 3),
        "prometheus_client_on_tracker_ms": round(took["prometheus_client_on_tracker"] * 1e3, 3),
        "us_per_sample": round(ours_s * 1e6 / samples, 3),
        "ratio": round(ours_s / theirs_s, 3),
        "target_ratio": SDK_TARGET_RATIO,
        "meets_target": ours_s / theirs_s <= SDK_TARGET_RATIO,
    }


# --- more measurements go here: each a function (seconds, rounds) -> Figures, added to MEASUREMENTS ------

MEASUREMENTS: dict[str, Callable[[float, int], Figures]] = {
    "collector_scrape": measure_collector_scrape,
    "sdk_exposition": measure_sdk_exposition,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=0.1, help="time per workload per round")
    parser.add_argument("--rounds", type=int, default=21, help="interleaved rounds; the fastest is kept")
    parser.add_argument("--only", choices=sorted(MEASUREMENTS), action="append", help="run only these")
    args = parser.parse_args(argv)
    results: dict[str, Figures] = {}
    for name, measure in MEASUREMENTS.items():
        if args.only and name not in args.only:
            continue
        figures = measure(args.seconds, args.rounds)
        results[name] = figures
        detail = ", ".join(f"{k}={v}" for k, v in figures.items() if k != "ratio")
        print(f"{name}: ratio {figures.get('ratio')} ({detail})")
    print(json.dumps({"benchmark": "scrape", "python": sys.version.split()[0], "results": results}, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
