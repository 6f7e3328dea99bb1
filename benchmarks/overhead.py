"""Per-call overhead of @aivitals.track next to hand-written prometheus_client and OpenTelemetry.

Prints ns per call for: (a) the bare function; (b) a hand-written decorator
calling prometheus_client with cached children (one histogram observe, three
counter increments); (c) @aivitals.track, sync and async, with tokens and
cost; (d) an OpenTelemetry SDK span plus a histogram record. Also the import
time of aivitals next to prometheus_client.

Then µs per OpenAI client call (``client_*`` keys) over the client's own
HTTP library's ``MockTransport`` (no network, no server: only the client and the
instrumentation cost): the bare client, ``aivitals.instrument(client)``, and
OpenLIT's instrumentation of the same call (OpenAI instrumentor only, traces and
metrics to in-memory readers, pricing from a local file, no message content).
Three calls: plain; a default stream, for which aivitals asks for usage (OpenLIT estimates tokens), so its
overhead includes the client decoding one more SSE event, never built into a chunk (``client_bare_usage_chunk_us``:
what asking costs a caller who does it itself); a stream that asks for usage itself.
Missing packages (``pip install 'aivitals[bench]'``) are said in the JSON.
All in one run; the last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import importlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
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


# --- The instrumented OpenAI client call, over a fake transport --------------------------------------------

MESSAGES = [{"role": "user", "content": "Capital of France?"}]
#: OpenLIT's pricing format (USD per 1k tokens), written to a local file: OpenLIT fetches it from GitHub otherwise.
OPENLIT_PRICING = {"chat": {"gpt-4o-mini": {"promptPrice": 0.00015, "completionPrice": 0.0006}}}


def _sse(events: list[Any]) -> bytes:
    return b"".join(f"data: {e if isinstance(e, str) else json.dumps(e)}\n\n".encode() for e in events)


def stream_bodies() -> tuple[bytes, bytes]:
    """A default chat stream's SSE body, and the one sent when usage is asked for (one more chunk, no choices)."""
    head = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1700000000, "model": "gpt-4o-mini"}

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {**head, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    events = [chunk({"role": "assistant", "content": ""}), *(chunk({"content": w}) for w in ("Par", "is", ".")),
              chunk({}, "stop")]
    usage = {**head, "choices": [], "usage": RESPONSE["usage"]}
    return _sse([*events, "[DONE]"]), _sse([*events, usage, "[DONE]"])


def http_library() -> Any:
    """The HTTP library the installed client is built on: httpx2 for openai 3.x, httpx before."""
    import openai

    for name in ("httpx2", "httpx"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        if issubclass(openai.DefaultHttpxClient, module.Client):
            return module
    raise ImportError("the HTTP library of the installed openai client", name="httpx")


def fake_client() -> Any:
    """An ``openai.OpenAI`` whose HTTP client answers in memory, as the API would (no socket is opened).

    The transport is the client's own HTTP library's ``MockTransport`` given to its
    ``DefaultHttpxClient``, so the client runs its usual path with no conversion.
    """
    import openai

    http = http_library()
    plain = json.dumps(RESPONSE).encode()
    stream, stream_with_usage = stream_bodies()

    def answer(request: Any) -> Any:
        body = json.loads(request.content)
        if not body.get("stream"):
            return http.Response(200, headers={"content-type": "application/json"}, content=plain)
        asked = (body.get("stream_options") or {}).get("include_usage") is True
        return http.Response(200, headers={"content-type": "text/event-stream"},
                             content=stream_with_usage if asked else stream)

    return openai.OpenAI(api_key="bench", base_url="http://llm.invalid/v1", max_retries=0,
                         http_client=openai.DefaultHttpxClient(transport=http.MockTransport(answer)))


class OpenLIT:
    """OpenLIT's OpenAI instrumentation (``openlit.init``), switched on only around its own measurements.

    Only the OpenAI instrumentor; traces to an in-memory exporter and metrics to an
    in-memory reader (set as the global providers first, so OpenLIT adds no console or
    OTLP exporter); pricing from a local file; no message content, no log events.
    OpenLIT's uninstrument does nothing, so its wrapper on ``Completions.create`` is
    swapped in and out here.
    """

    def __init__(self, workdir: Path) -> None:
        import openai.resources.chat.completions.completions as chat
        import openlit
        from openlit._instrumentors import MODULE_NAME_MAP
        from opentelemetry import metrics, trace
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import InMemoryMetricReader
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

        self.spans = InMemorySpanExporter()
        tracer_provider = TracerProvider()
        tracer_provider.add_span_processor(SimpleSpanProcessor(self.spans))
        trace.set_tracer_provider(tracer_provider)
        self.metrics = InMemoryMetricReader()
        metrics.set_meter_provider(MeterProvider(metric_readers=[self.metrics]))
        pricing = workdir / "openlit-pricing.json"
        pricing.write_text(json.dumps(OPENLIT_PRICING))
        self.cls, self.original = chat.Completions, chat.Completions.__dict__["create"]
        openlit.init(disabled_instrumentors=[name for name in MODULE_NAME_MAP if name != "openai"],
                     pricing_json=str(pricing), capture_message_content=False, disable_events=True,
                     disable_batch=True)
        self.wrapped = self.cls.__dict__["create"]
        if self.wrapped is self.original:
            raise RuntimeError("openlit.init() did not wrap Completions.create")
        self.on(False)
        self.name = f"openlit {metadata.version('openlit')}"

    def on(self, active: bool) -> None:
        setattr(self.cls, "create", self.wrapped if active else self.original)  # noqa: B010

    def check(self, calls: int) -> None:
        """Every measured call made a span with the response's tokens and cost, and a duration metric."""
        spans = self.spans.get_finished_spans()
        assert len(spans) == calls, f"OpenLIT made {len(spans)} spans for {calls} calls"
        tokens = [dict(span.attributes or {}).get("gen_ai.usage.input_tokens") for span in spans]
        assert RESPONSE["usage"]["prompt_tokens"] in tokens, "OpenLIT read the usage"  # type: ignore[index]
        assert self.metrics.get_metrics_data() is not None, "OpenLIT recorded metrics"


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


def us_per_call(fn: Callable[[], Any], calls: int) -> float:
    start = time.perf_counter_ns()
    for _ in range(calls):
        fn()
    return (time.perf_counter_ns() - start) / calls / 1000


def plain_call(client: Any) -> Callable[[], Any]:
    return lambda: client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)


def streamed_call(client: Any) -> Callable[[], Any]:
    """A default stream (no stream_options), read to the end as user code does."""
    return lambda: [chunk.choices[0].delta.content for chunk in client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True)]


def usage_streamed_call(client: Any) -> Callable[[], Any]:
    """A stream that asks for usage itself (the README's pattern): the exchange aivitals makes of a default stream."""
    return lambda: [chunk.choices[0].delta.content if chunk.choices else chunk.usage for chunk in
                    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True,
                                                   stream_options={"include_usage": True})]


#: What is measured: the plain call, a default stream, a stream that asks for usage.
KINDS: tuple[tuple[str, Callable[[Any], Callable[[], Any]]], ...] = (
    ("plain", plain_call), ("stream", streamed_call), ("stream_usage", usage_streamed_call))


def openlit_baseline(workdir: Path) -> tuple[OpenLIT | None, str]:
    try:
        baseline = OpenLIT(workdir)
    except ImportError as exc:
        return None, f"none: {exc.name} not installed (pip install 'aivitals[bench]')"
    except Exception as exc:
        return None, f"none: OpenLIT could not be set up offline ({type(exc).__name__}: {exc})"
    return baseline, baseline.name


Variant = tuple[str, Any, "OpenLIT | None"]


def timed(switch: OpenLIT | None, fn: Callable[[], Any], calls: int) -> float:
    """µs per call of ``fn``, with OpenLIT's wrapper in place for exactly these calls when ``switch`` is given."""
    if switch is not None:
        switch.on(True)
    try:
        return us_per_call(fn, calls)
    finally:
        if switch is not None:
            switch.on(False)


def timed_blocks(variants: list[Variant], blocks: int, block: int) -> dict[str, list[float]]:
    """µs per call of each variant and kind, over ``blocks`` short blocks taken in turn.

    Short blocks in rotating order put the variants side by side in time, so a
    neighbour's load on this machine slows all of them alike; the figures then
    compare block with block (paired), not one variant's quiet minute with another's busy one.
    """
    for _, call in KINDS:  # a first, untimed call of each: imports, caches and pools warmed alike
        for _, client, switch in variants:
            timed(switch, call(client), 1)
    times: dict[str, list[float]] = {}
    for turn in range(blocks):
        for kind, call in KINDS:
            for name, client, switch in variants[turn % len(variants):] + variants[:turn % len(variants)]:
                times.setdefault(f"{name}_{kind}", []).append(timed(switch, call(client), block))
    return times


def client_figures(blocks: int, block: int) -> dict[str, Any]:
    """µs per OpenAI client call: bare, aivitals.instrument(client) and OpenLIT, with overheads and ratios.

    ``client_X_us`` is the median block; ``client_X_overhead_us`` the median of the
    block-by-block differences from the bare call's block in the same turn.
    """
    try:
        http_library()
    except ImportError as exc:
        return {"client_skipped": f"{exc.name} not installed (pip install 'aivitals[bench]')"}
    import aivitals

    bare, instrumented = fake_client(), fake_client()
    tracker = aivitals.Tracker(CollectorRegistry())
    tracker.instrument(instrumented)  # this client's resources only, before OpenLIT wraps the class
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as workdir:
        baseline, figures["client_baseline"] = openlit_baseline(Path(workdir))
        variants: list[Variant] = [("bare", bare, None), ("aivitals", instrumented, None)]
        if baseline is not None:
            variants.append(("openlit", bare, baseline))
        try:
            times = timed_blocks(variants, blocks, block)
        finally:
            aivitals.uninstrument()
    calls = len(KINDS) * (blocks * block + 1)
    tracker.flush()
    counted = sum(sum(series.outcomes) for series in tracker.call_series())
    assert counted == calls, f"aivitals counted {counted} of {calls} calls"
    if baseline is not None:
        baseline.check(calls)
    for kind, _ in KINDS:
        for name, _, _ in variants:
            figures[f"client_{name}_{kind}_us"] = statistics.median(times[f"{name}_{kind}"])
            if name != "bare":
                figures[f"client_{name}_{kind}_overhead_us"] = statistics.median(
                    t - b for t, b in zip(times[f"{name}_{kind}"], times[f"bare_{kind}"], strict=True))
        if baseline is not None:
            figures[f"ratio_client_{kind}_aivitals_vs_openlit"] = (
                figures[f"client_aivitals_{kind}_overhead_us"] / figures[f"client_openlit_{kind}_overhead_us"])
    # What the client spends on usage a caller asks for itself (aivitals asks more cheaply: see the docstring).
    figures["client_bare_usage_chunk_us"] = statistics.median(
        u - b for u, b in zip(times["bare_stream_usage"], times["bare_stream"], strict=True))
    return figures


def import_seconds(module: str, runs: int = 7) -> float:
    code = f"import time; s = time.perf_counter(); import {module}; print(time.perf_counter() - s)"
    times = [float(subprocess.check_output([sys.executable, "-X", "frozen_modules=on", "-c", code]))
             for _ in range(runs)]
    return sorted(times)[runs // 2]


def main(argv: list[str] | None = None) -> None:
    import aivitals

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=200_000, help="decorated calls per measurement")
    parser.add_argument("--client-blocks", type=int, default=60, help="turns of OpenAI client calls per variant")
    parser.add_argument("--client-block", type=int, default=10, help="OpenAI client calls in one timed block")
    args = parser.parse_args(argv)
    calls = args.calls
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
    report: dict[str, Any] = {**figures, **client_figures(args.client_blocks, args.client_block)}
    for key, value in report.items():
        print(f"{key:40s} {value:12.3f}" if isinstance(value, float) else f"{key:40s} {value}")
    print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in report.items()}, sort_keys=True))


if __name__ == "__main__":
    main()
