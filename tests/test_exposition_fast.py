"""aivitals' fast text writer: the same exposition as prometheus_client's, for every kind of family."""

from __future__ import annotations

import asyncio
import gzip
import math
import os
import random
import subprocess
import urllib.request
from typing import Any

import prometheus_client
import pytest
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Enum,
    Gauge,
    Histogram,
    Info,
    ProcessCollector,
    Summary,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.utils import floatToGoString

from aivitals import Tracker, make_asgi_app, make_wsgi_app, start_http_server
from aivitals._version import __version__
from aivitals.collectors import register_collectors
from aivitals.collectors.fake_nvml import FakeGpu, FakeMig, FakeNvml, GiB
from aivitals.exposition import CONTENT_TYPE_LATEST, generate_latest
from aivitals.rendered import FamilySpec, Line, RenderedFamily, go_float
from conftest import ManualClock, openai_chat

ODD = 'we\\ird"mo\ndel'  # a backslash, a double quote and a newline: all three need escaping


def parsed(text: bytes) -> list[tuple[str, str, list[tuple[str, tuple[tuple[str, str], ...], float]]]]:
    """Families as (name, type, samples), samples sorted; NaN made comparable."""
    out = []
    for family in text_string_to_metric_families(text.decode()):
        samples = sorted((s.name, tuple(sorted(s.labels.items())), -0.5 if math.isnan(s.value) else s.value)
                         for s in family.samples)
        out.append((family.name, family.type, samples))
    return out


def assert_same_exposition(registry: Any) -> bytes:
    """The fast text is prometheus_client's text, byte for byte, and parses to the same families."""
    fast = generate_latest(registry)
    reference = prometheus_client.generate_latest(registry)
    assert parsed(fast) == parsed(reference)
    assert fast == reference
    return fast


def rich_tracker(registry: CollectorRegistry, clock: ManualClock, monkeypatch: pytest.MonkeyPatch) -> Tracker:
    """A tracker holding every kind of series, one of them with a model name that needs escaping."""
    tracker = Tracker(registry, service="checkout", clock=clock)
    tracker.track(model="gpt-4o-mini")(lambda: openai_chat(cached=10, reasoning=3))()
    tracker.track(model="gpt-4o-mini")(lambda: openai_chat(refusal="I can't help with that."))()
    with tracker.track(model="claude-haiku-4-5") as call:
        call.chunk({"type": "message_start"})
        clock.advance(0.25)
        call.chunk({"type": "content_block_delta"})
        clock.advance(0.05)
        call.chunk({"type": "message_delta", "usage": {"output_tokens": 3, "input_tokens": 1}})

    def fails() -> None:
        raise TimeoutError("upstream")

    with pytest.raises(TimeoutError):
        tracker.track(model="gpt-4o")(fails)()
    tracker.record_cache("prompt", True)
    tracker.record_cache("semantic", False, model="gpt-4o")
    tracker.record_quality("groundedness", 0.9)
    tracker.record_quality("context_recall", 0.35, model="gpt-4o")
    tracker.record_evaluation("citation", True)
    tracker.record_evaluation("hallucination", False)
    tracker.record_override("suggested")
    tracker.record_override("overridden", model="gpt-4o")
    tracker.record_pii("email")
    tracker.record_outcome("ticket_resolved", value_usd=12.5)
    tracker.record_quality("groundedness", 7.0)  # out of range: counted as an SDK error
    tracker.track(model="x" * 200)(lambda: None)()  # folded into "other", counted
    monkeypatch.setattr(tracker.labels, "value", lambda label, raw: raw)  # force a value no guard would pass
    tracker.track(model=ODD)(lambda: openai_chat(prompt=5, completion=1))()
    tracker.record_cache("prompt", False, model=ODD)
    tracker.record_quality("groundedness", 0.5, model=ODD)
    tracker.flush()
    return tracker


def fake_gpus() -> FakeNvml:
    me = os.getpid()
    mig = FakeMig("MIG-1", gpu_instance_id=3, memory_used=GiB, processes=[(me, GiB)])
    return FakeNvml([
        FakeGpu("GPU-0", power_mw=312_456, energy_mj=12_345_678_901, gpu_utilization=97, memory_utilization=41,
                memory_used=71 * GiB + 12345, temperature_c=67, throttle_reasons=0b101, ecc_corrected=3,
                processes=[(me, 3 * GiB), (me + 1, GiB)]),
        FakeGpu("GPU-1", name="NVIDIA A100-SXM4-40GB", mig_capable=True, mig_enabled=True,
                mig_slots=[mig, None], unsupported={"nvmlDeviceGetTotalEccErrors"}),
    ])


def plain_metrics(registry: CollectorRegistry) -> None:
    """prometheus_client's own metric kinds, with _created samples, odd values and odd help text."""
    Counter("app_jobs", "Jobs done.\nSecond line with a \\ backslash.", ["queue"], registry=registry) \
        .labels(queue=ODD).inc(3)
    Gauge("app_temperature_celsius", "A gauge.", registry=registry).set(float("nan"))
    Gauge("app_big", "Big and small values.", ["kind"], registry=registry).labels("big").set(1.5e22)
    Histogram("app_latency_seconds", "A histogram.", ["route"], registry=registry).labels("/x").observe(0.3)
    Summary("app_size_bytes", "A summary.", registry=registry).observe(1234567)
    Info("app_build", "Build info.", registry=registry).info({"version": "1.2.3", "commit": 'a"b'})
    Enum("app_state", "An enum.", states=["up", "down"], registry=registry).state("down")
    ProcessCollector(registry=registry)


# --- the value formatting ----------------------------------------------------------------------------------


def test_go_float_writes_exactly_what_float_to_go_string_writes() -> None:
    rng = random.Random(7)
    values: list[Any] = [0, -0.0, 0.0, -0.0, 1, -1, True, False, 999_999, 1_000_000, 1_234_567, 10**15 - 1,
                         10**15, 10**16, 2**53, 2**53 + 1, -(10**15), -(10**17), 0.1, 1e-7, 5e-324, 999_999.9999999999,
                         1e6, 1e21, 1e22, -1e22, 1.7976931348623157e308, float("inf"), float("-inf"), float("nan")]
    values += [rng.uniform(-1e3, 1e3) for _ in range(500)]
    values += [math.copysign(10 ** rng.uniform(-30, 30), rng.random() - 0.5) for _ in range(500)]
    values += [rng.randrange(-(10**18), 10**18) for _ in range(300)] + [rng.randrange(0, 10**7) for _ in range(300)]
    for value in values * 2:  # twice: the second pass reads the remembered text
        assert go_float(value) == floatToGoString(value), value
    for first, second in ((0.0, -0.0), (-0.0, 0.0), (0, -0.0)):  # equal keys, different text
        assert (go_float(first), go_float(second)) == (floatToGoString(first), floatToGoString(second))


def test_a_line_reuses_its_last_text_only_for_a_value_that_prints_the_same() -> None:
    line = Line("demo", {"kind": "a"})
    nan = float("nan")
    for value in (0.0, -0.0, 0, 1, 1.0, True, 2.5, 2.5, 1234567, 1234567.0, nan, nan, float("nan"), -0.0, 0.0,
                  2**53 + 1, float(2**53)):
        assert line.text(value) == f'demo{{kind="a"}} {floatToGoString(value)}\n', value


# --- the same text as prometheus_client ----------------------------------------------------------------------


def test_a_tracker_with_every_kind_of_series_exposes_what_prometheus_client_exposes(
        registry: CollectorRegistry, clock: ManualClock, monkeypatch: pytest.MonkeyPatch) -> None:
    rich_tracker(registry, clock, monkeypatch)
    text = assert_same_exposition(registry).decode()
    escaped = 'model="we\\\\ird\\"mo\\ndel"'
    assert f'aivitals_requests_total{{{escaped},operation="chat",outcome="ok",provider="other",' in text
    assert 'outcome="refused"' in text and 'outcome="timeout"' in text and 'error_type="TimeoutError"' in text
    assert "aivitals_time_per_output_chunk_seconds_bucket" in text and "aivitals_quality_score_sum" in text
    families = {f.name: f for f in text_string_to_metric_families(text)}
    models = {s.labels["model"] for s in families["aivitals_requests"].samples}
    assert ODD in models and "other" in models  # the parser reads the escaped value back as it was


def test_the_registry_api_still_reads_the_tracker(registry: CollectorRegistry, clock: ManualClock,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    rich_tracker(registry, clock, monkeypatch)
    labels = {"service": "checkout", "model": "gpt-4o-mini", "operation": "chat", "provider": "openai"}
    assert registry.get_sample_value("aivitals_requests_total", {**labels, "outcome": "refused"}) == 1.0
    assert registry.get_sample_value("aivitals_request_tokens_count", {**labels, "token_type": "input"}) == 2.0
    assert registry.get_sample_value("aivitals_tokens_total", {**labels, "token_type": "cached_input"}) == 10.0
    assert registry.get_sample_value("aivitals_request_duration_seconds_bucket", {**labels, "le": "+Inf"}) == 2.0
    assert registry.get_sample_value("aivitals_build_info", {"version": __version__}) == 1.0


def test_scrapes_after_more_calls_show_the_new_values_and_repeat_identically(
        registry: CollectorRegistry, clock: ManualClock, monkeypatch: pytest.MonkeyPatch) -> None:
    tracker = rich_tracker(registry, clock, monkeypatch)
    first = assert_same_exposition(registry)
    assert generate_latest(registry) == first  # cached label text, unchanged values: the same text
    tracker.track(model="gpt-4o-mini")(lambda: openai_chat(prompt=4000))()
    tracker.track(model="brand-new-model")(lambda: openai_chat())()
    second = assert_same_exposition(registry)
    assert second != first and b'model="brand-new-model"' in second


def test_gpu_and_host_collectors_expose_what_prometheus_client_exposes(registry: CollectorRegistry) -> None:
    nvml = fake_gpus()
    register_collectors(registry, nvml=nvml, psutil=None)
    list(registry.collect())  # the first scrape primes the host CPU delta
    frozen = CollectorRegistry()
    frozen.register(_Frozen(list(registry.collect())))  # host readings change between scrapes: freeze one
    text = assert_same_exposition(frozen).decode()
    assert 'aivitals_gpu_throttled{gpu="0",gpu_name="NVIDIA H100 80GB HBM3",mig_instance="",' in text
    assert 'mig_instance="3"' in text and "aivitals_collector_errors_total" in text
    assert "aivitals_host_memory_utilization_ratio" in text


def test_a_registry_mixing_aivitals_and_plain_metrics_is_exposed_identically(
        registry: CollectorRegistry, clock: ManualClock, monkeypatch: pytest.MonkeyPatch) -> None:
    plain_metrics(registry)
    rich_tracker(registry, clock, monkeypatch)
    register_collectors(registry, nvml=fake_gpus())
    frozen = CollectorRegistry()
    frozen.register(_Frozen(list(registry.collect())))  # process and host readings change between scrapes
    text = assert_same_exposition(frozen).decode()
    assert "process_cpu_seconds_total" in text and "app_jobs_created" in text
    assert "# HELP app_jobs_total Jobs done.\\nSecond line with a \\\\ backslash." in text
    assert 'app_jobs_total{queue="we\\\\ird\\"mo\\ndel"} 3.0' in text and "app_big{kind=\"big\"} 1.5e+22" in text


def test_samples_read_or_replaced_before_the_write_are_what_gets_written() -> None:
    spec = FamilySpec(GaugeMetricFamily("demo_ratio", "Demo."), ["kind"])
    read, replaced = RenderedFamily(spec), RenderedFamily(spec)
    for family in (read, replaced):
        family.rows.append((spec.line(("a",)), 0.5))
    read.samples.append(read.samples[0]._replace(labels={"kind": "b"}, value=2.0))  # a mutation of the list
    replaced.samples = []
    registry = CollectorRegistry()
    registry.register(_Frozen([read, replaced]))
    text = assert_same_exposition(registry).decode()
    assert 'demo_ratio{kind="b"} 2.0' in text and text.count("demo_ratio{") == 2


def test_name_filters_restrict_the_fast_output_as_they_restrict_prometheus_clients(
        registry: CollectorRegistry, clock: ManualClock, monkeypatch: pytest.MonkeyPatch) -> None:
    rich_tracker(registry, clock, monkeypatch)
    register_collectors(registry, nvml=fake_gpus(), host=False)
    plain_metrics(registry)
    names = ["aivitals_requests_total", "aivitals_quality_score_bucket", "aivitals_gpu_power_watts",
             "app_jobs_total", "no_such_metric"]
    restricted = registry.restricted_registry(names)
    text = assert_same_exposition(restricted).decode()
    kept = {s.name for f in text_string_to_metric_families(text) for s in f.samples}
    assert kept == {"aivitals_requests_total", "aivitals_quality_score_bucket", "aivitals_gpu_power_watts",
                    "app_jobs_total"}
    query = "&".join(f"name[]={name}" for name in names)
    assert wsgi_get(make_wsgi_app(registry), query=query)[2] == generate_latest(restricted)


def test_lines_render_their_labels_sorted_and_escaped_once() -> None:
    line = Line("demo_total", {"zone": "a", "model": ODD})
    assert line.prefix == 'demo_total{model="we\\\\ird\\"mo\\ndel",zone="a"} '
    assert Line("demo", {}).prefix == "demo "


@pytest.mark.prometheus
def test_promtool_finds_nothing_to_complain_about_in_the_fast_output(
        registry: CollectorRegistry, clock: ManualClock, monkeypatch: pytest.MonkeyPatch) -> None:
    rich_tracker(registry, clock, monkeypatch)
    register_collectors(registry, nvml=fake_gpus())
    result = subprocess.run(["promtool", "check", "metrics"], input=generate_latest(registry), capture_output=True,
                            timeout=30)
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()


# --- serving ----------------------------------------------------------------------------------------------------


def wsgi_get(app: Any, method: str = "GET", query: str = "", path: str = "/metrics",
             accept_encoding: str | None = None) -> tuple[str, dict[str, str], bytes]:
    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query}
    if accept_encoding is not None:
        environ["HTTP_ACCEPT_ENCODING"] = accept_encoding
    answer: list[Any] = []
    body = b"".join(app(environ, lambda status, headers: answer.extend([status, dict(headers)])))
    return answer[0], answer[1], body


def test_the_wsgi_app_serves_the_fast_text_plain_or_gzipped(registry: CollectorRegistry, clock: ManualClock,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    rich_tracker(registry, clock, monkeypatch)
    app = make_wsgi_app(registry)
    status, headers, body = wsgi_get(app)
    assert status == "200 OK" and headers["Content-Type"] == CONTENT_TYPE_LATEST
    assert "Content-Encoding" not in headers and body == prometheus_client.generate_latest(registry)
    status, headers, zipped = wsgi_get(app, accept_encoding="deflate, gzip;q=0.9")
    assert headers["Content-Encoding"] == "gzip" and gzip.decompress(zipped) == body
    assert wsgi_get(make_wsgi_app(registry, disable_compression=True), accept_encoding="gzip")[2] == body
    assert wsgi_get(app, method="POST")[0] == "405 Method Not Allowed"
    assert wsgi_get(app, method="OPTIONS")[:2] == ("200 OK", {"Allow": "OPTIONS,GET"})
    assert wsgi_get(app, path="/favicon.ico")[2] == b""


def test_the_asgi_app_serves_the_fast_text_plain_or_gzipped(registry: CollectorRegistry, clock: ManualClock,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    rich_tracker(registry, clock, monkeypatch)
    app = make_asgi_app(registry)

    def get(headers: list[tuple[bytes, bytes]], query: bytes = b"") -> tuple[int, dict[bytes, bytes], bytes]:
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        scope = {"type": "http", "method": "GET", "path": "/", "query_string": query, "headers": headers}
        asyncio.run(app(scope, receive, send))
        return sent[0]["status"], dict(sent[0]["headers"]), b"".join(m.get("body", b"") for m in sent)

    status, headers, body = get([])
    assert status == 200 and headers[b"content-type"] == CONTENT_TYPE_LATEST.encode()
    assert body == prometheus_client.generate_latest(registry)
    status, headers, zipped = get([(b"Accept-Encoding", b"gzip")])
    assert headers[b"content-encoding"] == b"gzip" and gzip.decompress(zipped) == body
    only = get([], query=b"name[]=aivitals_pii_detections_total")[2].decode()
    assert [f.name for f in text_string_to_metric_families(only)] == ["aivitals_pii_detections"]


def test_the_standalone_server_serves_the_fast_text_plain_and_gzipped(
        registry: CollectorRegistry, clock: ManualClock, monkeypatch: pytest.MonkeyPatch, free_port: int) -> None:
    rich_tracker(registry, clock, monkeypatch)
    server, thread = start_http_server(free_port, registry=registry)
    try:
        url = f"http://127.0.0.1:{free_port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as response:
            assert response.headers["Content-Type"] == CONTENT_TYPE_LATEST
            assert response.read() == prometheus_client.generate_latest(registry)
        request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.headers["Content-Encoding"] == "gzip"
            assert gzip.decompress(response.read()) == generate_latest(registry)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


class _Frozen:
    """Families collected once, so two writers see the same readings."""

    def __init__(self, families: list[Any]) -> None:
        self._families = families

    def collect(self) -> list[Any]:
        return self._families
