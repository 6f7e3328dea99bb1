"""The stdlib client: same event ids on every retry, retries only what a retry can fix."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from aivitals.sidecar.client import SidecarClient, SidecarError, SidecarUnavailable


class Scripted(ThreadingHTTPServer):
    """Answers POSTs with the scripted statuses in turn and records each body."""

    def __init__(self, statuses: list[int]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.statuses = statuses
        self.bodies: list[object] = []
        self.headers_seen: list[dict[str, str]] = []


class _Handler(BaseHTTPRequestHandler):
    server: Scripted

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.bodies.append(body)
        self.server.headers_seen.append(dict(self.headers))
        status = self.server.statuses.pop(0) if self.server.statuses else 200
        n = len(body) if isinstance(body, list) else 1
        payload = json.dumps({"accepted": n, "duplicate": 0} if status == 200 else
                             {"detail": "store failed", "errors": []}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def scripted(request: pytest.FixtureRequest) -> Iterator[Scripted]:
    server = Scripted(list(request.param))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def url(server: Scripted) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


@pytest.mark.parametrize("scripted", [[503, 503, 200]], indirect=True)
def test_a_503_is_retried_with_the_same_event_ids(scripted: Scripted) -> None:
    client = SidecarClient(url(scripted), token="tok-12345678", backoff=0.001)
    ack = client.send("survey", [{"score": 9}, {"score": 3}])
    assert ack == {"accepted": 2, "duplicate": 0}
    assert len(scripted.bodies) == 3
    assert scripted.bodies[0] == scripted.bodies[1] == scripted.bodies[2]
    ids = [event["event_id"] for event in scripted.bodies[0]]  # type: ignore[union-attr]
    assert len(set(ids)) == 2
    assert scripted.headers_seen[0]["Authorization"] == "Bearer tok-12345678"


@pytest.mark.parametrize("scripted", [[422]], indirect=True)
def test_a_4xx_raises_at_once(scripted: Scripted) -> None:
    with pytest.raises(SidecarError) as raised:
        SidecarClient(url(scripted), backoff=0.001).send("survey", {"score": 11})
    assert raised.value.status == 422 and raised.value.detail == "store failed"
    assert len(scripted.bodies) == 1


@pytest.mark.parametrize("scripted", [[503] * 1000], indirect=True)
def test_retries_stop_after_retry_for_seconds(scripted: Scripted) -> None:
    with pytest.raises(SidecarUnavailable, match="not committed"):
        SidecarClient(url(scripted), retry_for=0.2, backoff=0.01).send("survey", {"score": 1})


@pytest.mark.parametrize("scripted", [[]], indirect=True)
def test_caller_event_ids_are_kept_and_the_callers_dicts_untouched(scripted: Scripted) -> None:
    event = {"kind": "survey", "score": 9, "event_id": "mine"}
    SidecarClient(url(scripted)).send_events([event, {"kind": "survey", "score": 1}])
    sent = scripted.bodies[0]
    assert sent[0]["event_id"] == "mine" and sent[1]["event_id"]  # type: ignore[index]
    assert event == {"kind": "survey", "score": 9, "event_id": "mine"}


def test_a_refused_connection_is_retried_until_retry_for() -> None:
    with pytest.raises(SidecarUnavailable, match="ConnectionRefusedError"):
        SidecarClient("http://127.0.0.1:9", retry_for=0.2, backoff=0.01).send("survey", {"score": 1})


def test_unknown_kinds_and_bad_urls_are_caller_errors() -> None:
    with pytest.raises(ValueError, match="unknown event kind"):
        SidecarClient("http://127.0.0.1:1").send("telepathy", {})
    with pytest.raises(ValueError, match="base_url"):
        SidecarClient("127.0.0.1:9477")


def test_the_clients_endpoint_table_matches_the_servers() -> None:
    from aivitals.sidecar.client import ENDPOINTS
    from aivitals.sidecar.events import KINDS

    assert {kind: path for kind, (_, path) in KINDS.items()} == ENDPOINTS
