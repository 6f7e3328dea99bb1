"""/metrics served standalone, through ASGI and through WSGI."""

from __future__ import annotations

import asyncio
import subprocess
import urllib.request

import pytest

from aivitals import Tracker, make_asgi_app, make_wsgi_app, start_http_server
from conftest import openai_chat


def scrape_text(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode()


def test_the_standalone_server_binds_loopback_and_serves_every_returned_call(registry, free_port):
    tracker = Tracker(registry)
    ask = tracker.track(model="gpt-4o-mini")(lambda: openai_chat())
    server, thread = start_http_server(free_port, registry=registry)
    try:
        assert server.server_address[0] == "127.0.0.1"
        for _ in range(3):
            ask()
        text = scrape_text(f"http://127.0.0.1:{free_port}/metrics")
        assert 'aivitals_requests_total{model="gpt-4o-mini",operation="chat",outcome="ok",provider="openai",' \
               'service="default"} 3.0' in text
    finally:
        server.shutdown()
        thread.join(5)


def test_the_asgi_app_serves_metrics(registry):
    Tracker(registry).track(model="gpt-4o")(lambda: None)()
    app = make_asgi_app(registry)
    sent: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/", "query_string": b"", "headers": []}
    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 200
    assert b"aivitals_requests_total" in b"".join(m.get("body", b"") for m in sent)


def test_the_wsgi_app_serves_metrics(registry):
    Tracker(registry).track(model="gpt-4o")(lambda: None)()
    app = make_wsgi_app(registry)
    statuses = []
    body = b"".join(app({"REQUEST_METHOD": "GET", "PATH_INFO": "/metrics", "QUERY_STRING": ""},
                        lambda status, headers: statuses.append(status)))
    assert statuses == ["200 OK"]
    assert b"aivitals_requests_total" in body


@pytest.mark.prometheus
def test_promtool_finds_nothing_to_complain_about_in_the_sdk_exposition(registry, clock):
    from prometheus_client import generate_latest

    tracker = Tracker(registry, clock=clock)
    tracker.track(model="gpt-4o-mini")(lambda: openai_chat(cached=10))()
    with tracker.track(model="claude-haiku-4-5") as call:
        call.chunk({"type": "message_start"})
        clock.advance(0.1)
        call.chunk({"type": "message_delta", "usage": {"output_tokens": 3, "input_tokens": 1}})
    tracker.record_cache("prompt", True)
    tracker.record_quality("groundedness", 0.9)
    tracker.record_evaluation("citation", True)
    tracker.record_override("suggested")
    tracker.record_outcome("ticket_resolved", value_usd=1.0)
    result = subprocess.run(["promtool", "check", "metrics"], input=generate_latest(registry),
                            capture_output=True, timeout=30)
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()
    assert result.stdout.decode().strip() == "" and result.stderr.decode().strip() == ""
