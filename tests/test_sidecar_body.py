"""One body reader for every endpoint: size and nesting are bounded, and a 413 reaches real HTTP clients."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from _sidecar import Clock, running_sidecar, settings
from aivitals.sidecar import create_app
from aivitals.sidecar.body import MAX_DEPTH, too_deep
from aivitals.sidecar.events import KINDS

MB = 1024 * 1024
LIMIT = 8 * MB
PATHS = ["/v1/events", "/v1/alertmanager", *(f"/v1/{path}" for _, path in KINDS.values())]
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(settings(tmp_path, max_body_bytes=256 * 1024), clock=Clock())
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def nested(levels: int, inner: bytes = b"1") -> bytes:
    return b"[" * levels + inner + b"]" * levels


@pytest.mark.parametrize("path", PATHS)
def test_a_thousand_levels_of_nesting_get_a_400_on_every_path_and_the_log_never_quotes_it(
        client: TestClient, path: str, caplog: pytest.LogCaptureFixture) -> None:
    body = b'[{"user": "SECRETKEY42", "x": ' + nested(1000) + b"}]"
    with caplog.at_level(logging.DEBUG):
        response = client.post(path, content=body, headers=JSON)
        ndjson = client.post(path, content=body + b"\n", headers={"Content-Type": "application/x-ndjson"})
    assert response.status_code == 400, response.text
    assert "nested deeper than" in response.json()["detail"]
    assert ndjson.status_code in (400, 415)  # the webhook takes JSON only
    assert "SECRETKEY42" not in caplog.text and "SECRETKEY42" not in response.text


def test_unbalanced_opening_brackets_are_refused_before_a_parser_recurses(client: TestClient) -> None:
    response = client.post("/v1/surveys", content=b"[" * 5000, headers=JSON)
    assert response.status_code == 400


def test_nesting_up_to_the_bound_reaches_validation(client: TestClient) -> None:
    response = client.post("/v1/surveys", content=nested(MAX_DEPTH - 1, b'{"score": 7}'), headers=JSON)
    assert response.status_code == 422  # an array of arrays is not an event, but it was parsed, not refused


@pytest.mark.parametrize(("text", "deep"), [
    (b"[]", False),
    (b'{"a": [1, {"b": "]]]]][[[[[[[[[[["}]}', False),  # brackets inside strings do not count
    (b'{"a": "\\"[[[[[[[[[[[[[[["}', False),  # nor after an escaped quote
    (nested(4), False),
    (nested(5), True),
    (b"[[[[[", True),
    (b"]]]]]]]]", False),  # malformed, left to the parser
    (b'{"score": 1}\n' + nested(5) + b"\n", True),  # NDJSON: any line
])
def test_depth_counts_brackets_outside_strings(text: bytes, deep: bool) -> None:
    assert too_deep(text, 4) is deep


@pytest.mark.parametrize("send", ["httpx", "urllib"])
def test_an_oversized_body_from_a_client_without_expect_continue_gets_the_413(tmp_path: Path, send: str) -> None:
    body = json.dumps([{"score": 7}] * 1_100_000).encode()  # about 15 MB: more than the sockets buffer
    assert LIMIT < len(body) < 2 * LIMIT
    with running_sidecar(tmp_path / "s.db", {"max_body_bytes": LIMIT}) as port:
        url = f"http://127.0.0.1:{port}/v1/surveys"
        if send == "httpx":
            response = httpx.post(url, content=body, headers=JSON, timeout=30)
            status, detail = response.status_code, response.json()["detail"]
        else:
            request = urllib.request.Request(url, data=body, headers=JSON, method="POST")
            with pytest.raises(urllib.error.HTTPError) as answered:
                urllib.request.urlopen(request, timeout=30)
            status, detail = answered.value.code, json.loads(answered.value.read())["detail"]
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
    assert status == 413
    assert "max_body_bytes" in detail


def test_an_oversized_body_announced_with_expect_continue_is_refused_unread(client: TestClient) -> None:
    response = client.post("/v1/surveys", content=b"[" + b" " * (300 * 1024) + b"]",
                           headers={**JSON, "Expect": "100-continue"})
    assert response.status_code == 413
