"""Per-call overhead of @aivitals.track next to hand-written prometheus_client and OpenTelemetry.

Prints ns per call for: (a) the bare function; (b) a hand-written decorator
calling prometheus_client with cached children (one histogram observe, three
counter increments); (c) @aivitals.track, sync and async, with tokens and
cost; (d) an OpenTelemetry SDK span plus a histogram record. Also the import
time of aivitals next to prometheus_client. All in one run; the last line is
one JSON object.
"""

from __future__ import annotations

import asyncio
import functools
import json
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram

#: An OpenAI chat completion as the HTTP API returns it (the SDK's model_dump() has the same shape).
RESPONSE = {
    "id": "chatcmpl-1", "object": "chat.completion", "created": 1700000000, "model": "gpt-4o-mini",
    "choices": [{"index": 0, "finish_reason": "stop",
                 "message": {"role": "assistant", "content": "Paris.", "refusal": None}}],
    "usage": {"prompt_tokens": 812, "completion_tokens": 96, "total_tokens": 908,
              "prompt_tokens_details": {"cached_tokens": 512}, "completion_tokens_details": {"reasoning_tokens": 0}},
}


def model_call(prompt: str) -> dict[str, Any]:
    return RESPONSE


async def async_model_call(prompt: str) -> dict[str, Any]:
    return RESPONSE


def hand_written(fn: Callable[..., Any]) -> Callable[..., Any]:
    registry = CollectorRegistry()
    duration = Histogram("d_seconds", "d", ["model"], registry=registry).labels("gpt-4o-mini")
    requests = Counter("r", "r", ["model"], registry=registry).labels("gpt-4o-mini")
    tokens_in = Counter("ti", "t", ["model"], registry=registry).labels("gpt-4o-mini")
    tokens_out = Counter("to", "t", ["model"], registry=registry).labels("gpt-4o-mini")

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        result = fn(*args, **kwargs)
        duration.observe(time.perf_counter() - start)
        requests.inc()
        usage = result["usage"]
        tokens_in.inc(usage["prompt_tokens"])
        tokens_out.inc(usage["completion_tokens"])
        return result

    return wrapper


def otel(fn: Callable[..., Any]) -> Callable[..., Any]:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider

    tracer = TracerProvider().get_tracer("bench")
    meter = MeterProvider(metric_readers=[InMemoryMetricReader()]).get_meter("bench")
    histogram = meter.create_histogram("gen_ai.client.operation.duration", unit="s")
    attributes = {"gen_ai.request.model": "gpt-4o-mini", "gen_ai.operation.name": "chat"}

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        with tracer.start_as_current_span("chat gpt-4o-mini", attributes=attributes) as span:
            result = fn(*args, **kwargs)
            usage = result["usage"]
            span.set_attribute("gen_ai.usage.input_tokens", usage["prompt_tokens"])
            span.set_attribute("gen_ai.usage.output_tokens", usage["completion_tokens"])
        histogram.record(time.perf_counter() - start, attributes)
        return result

    return wrapper


def ns_per_call(fn: Callable[[str], Any], calls: int, repeats: int = 5) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter_ns()
        for _ in range(calls):
            fn("hi")
        best = min(best, (time.perf_counter_ns() - start) / calls)
    return best


def ns_per_async_call(fn: Callable[[str], Any], calls: int, repeats: int = 5) -> float:
    async def loop() -> float:
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter_ns()
            for _ in range(calls):
                await fn("hi")
            best = min(best, (time.perf_counter_ns() - start) / calls)
        return best

    return asyncio.run(loop())


def import_seconds(module: str, runs: int = 7) -> float:
    code = f"import time; s = time.perf_counter(); import {module}; print(time.perf_counter() - s)"
    times = [float(subprocess.check_output([sys.executable, "-X", "frozen_modules=on", "-c", code]))
             for _ in range(runs)]
    return sorted(times)[runs // 2]


def main() -> None:
    import aivitals

    calls = 200_000
    tracker = aivitals.Tracker(CollectorRegistry())
    tracked = tracker.track(model="gpt-4o-mini")(model_call)
    tracked_async = tracker.track(model="gpt-4o-mini")(async_model_call)
    figures = {
        "bare_ns": ns_per_call(model_call, calls),
        "prometheus_client_ns": ns_per_call(hand_written(model_call), calls),
        "aivitals_sync_ns": ns_per_call(tracked, calls),
        "bare_async_ns": ns_per_async_call(async_model_call, calls),
        "aivitals_async_ns": ns_per_async_call(tracked_async, calls),
        "opentelemetry_ns": ns_per_call(otel(model_call), calls // 10),
    }
    tracker.flush()
    assert tracker.call_series()[0].outcomes[0] >= calls, "every call was counted"
    figures["aivitals_sync_overhead_ns"] = figures["aivitals_sync_ns"] - figures["bare_ns"]
    figures["aivitals_async_overhead_ns"] = figures["aivitals_async_ns"] - figures["bare_async_ns"]
    figures["prometheus_client_overhead_ns"] = figures["prometheus_client_ns"] - figures["bare_ns"]
    figures["opentelemetry_overhead_ns"] = figures["opentelemetry_ns"] - figures["bare_ns"]
    figures["ratio_sync_vs_prometheus_client"] = (
        figures["aivitals_sync_overhead_ns"] / figures["prometheus_client_overhead_ns"])
    figures["ratio_async_vs_prometheus_client"] = (
        figures["aivitals_async_overhead_ns"] / figures["prometheus_client_overhead_ns"])
    figures["ratio_sync_vs_opentelemetry"] = figures["aivitals_sync_overhead_ns"] / figures["opentelemetry_overhead_ns"]
    figures["import_prometheus_client_s"] = import_seconds("prometheus_client")
    figures["import_aivitals_s"] = import_seconds("aivitals")
    figures["ratio_import"] = figures["import_aivitals_s"] / figures["import_prometheus_client_s"]
    for key, value in figures.items():
        print(f"{key:36s} {value:12.3f}")
    print(json.dumps({k: round(v, 4) for k, v in figures.items()}, sort_keys=True))


if __name__ == "__main__":
    main()
