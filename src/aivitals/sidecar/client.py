"""A tiny standard-library client for the sidecar, with safe retries.

Every event gets an ``event_id`` before the first attempt, and a retry resends
the same body, so an event whose commit succeeded but whose answer was lost is
counted once (the sidecar answers ``duplicate``). It retries on 503 and on
connection errors until ``retry_for`` seconds have passed; a 4xx is the
caller's mistake and raises at once.
"""

from __future__ import annotations

import http.client
import json
import random
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode, urlsplit

#: Event kind -> endpoint under /v1 (mirrors events.KINDS without importing pydantic).
ENDPOINTS = {
    "prediction": "predictions",
    "label": "labels",
    "exposure": "exposures",
    "conversion": "conversions",
    "outcome": "outcomes",
    "work_unit": "work-units",
    "activity": "activity",
    "override": "overrides",
    "survey": "surveys",
    "incident": "incidents",
    "training_run": "training-runs",
    "ground_truth": "ground-truth",
    "probe_result": "probe-results",
    "evaluation": "evaluations",
}
_RETRY_STATUSES = (502, 503, 504)


class SidecarError(Exception):
    """The sidecar refused the request (4xx): retrying the same body cannot help."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail


class SidecarUnavailable(Exception):
    """The sidecar did not commit the events within ``retry_for`` seconds."""


class SidecarClient:
    """Sends events to a sidecar; thread-safe (one keep-alive connection per thread)."""

    def __init__(self, base_url: str, token: str | None = None, *, timeout: float = 10.0,
                 retry_for: float = 30.0, backoff: float = 0.05, max_backoff: float = 2.0) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"base_url must be http(s)://host[:port], got {base_url!r}")
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._prefix = parts.path.rstrip("/")
        self._headers = {"Content-Type": "application/json"}
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        self.timeout = timeout
        self.retry_for = retry_for
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._local = threading.local()

    # --- sending events ----------------------------------------------------------------------
    def send(self, kind: str, events: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> dict[str, int]:
        """Send one event or a batch of one kind; returns {"accepted": n, "duplicate": m}."""
        if kind not in ENDPOINTS:
            raise ValueError(f"unknown event kind {kind!r}; known: {', '.join(ENDPOINTS)}")
        return self._post(f"/v1/{ENDPOINTS[kind]}", _with_ids(events))

    def send_events(self, events: Sequence[Mapping[str, Any]]) -> dict[str, int]:
        """Send events of any kinds in one request; each must have a ``kind``."""
        return self._post("/v1/events", _with_ids(events))

    def _post(self, path: str, body: Any) -> dict[str, int]:
        data = json.dumps(body, separators=(",", ":")).encode("utf-8")
        payload = self.request("POST", path, data)[1]
        result: dict[str, int] = json.loads(payload)
        return result

    # --- reading -----------------------------------------------------------------------------
    def metrics(self) -> str:
        """The /metrics exposition text."""
        return self.request("GET", "/metrics")[1].decode("utf-8")

    def probe_results(self, suite: str, suite_version: str, model: str) -> list[dict[str, Any]]:
        """The kept probe runs of a suite version and model, the current release first (at most two)."""
        query = urlencode({"suite": suite, "suite_version": suite_version, "model": model})
        runs: list[dict[str, Any]] = json.loads(self.request("GET", f"/v1/probe-results?{query}")[1])["runs"]
        return runs

    def ready(self) -> bool:
        try:
            return self._once("GET", "/readyz", None)[0] == 200
        except (OSError, http.client.HTTPException):
            return False

    # --- transport ---------------------------------------------------------------------------
    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        """One request, retried on 502/503/504 and connection errors with the same body."""
        deadline = time.monotonic() + self.retry_for
        delay = self.backoff
        while True:
            try:
                status, payload = self._once(method, path, body)
            except (OSError, http.client.HTTPException) as exc:
                self._drop()
                last: str = f"{type(exc).__name__}: {exc}"
            else:
                if status < 300:
                    return status, payload
                if status not in _RETRY_STATUSES:
                    raise SidecarError(status, _detail(payload))
                last = f"{status}: {_detail(payload)}"
            if time.monotonic() + delay > deadline:
                raise SidecarUnavailable(f"{method} {path}: not committed after {self.retry_for:g} s ({last})")
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, self.max_backoff)

    def _once(self, method: str, path: str, body: bytes | None) -> tuple[int, bytes]:
        conn = self._connection()
        conn.request(method, self._prefix + path, body=body, headers=self._headers)
        response = conn.getresponse()
        payload = response.read()
        if response.will_close:
            self._drop()
        return response.status, payload

    def _connection(self) -> http.client.HTTPConnection:
        conn: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
        if conn is None:
            cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            conn = cls(self._host, self._port, timeout=self.timeout)
            self._local.conn = conn
        return conn

    def _drop(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def close(self) -> None:
        """Close this thread's connection."""
        self._drop()


def new_event_id() -> str:
    """A unique id that sorts by time (like UUIDv7): the store's index grows at one end, not all over."""
    return f"{time.time_ns():016x}{uuid.uuid4().hex[:16]}"


def _with_ids(events: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> Any:
    """Copies of the events, each with an event_id (kept if the caller gave one)."""
    if isinstance(events, Mapping):
        return {"event_id": new_event_id(), **events}
    return [{"event_id": new_event_id(), **event} for event in events]


def _detail(payload: bytes) -> str:
    try:
        return str(json.loads(payload)["detail"])
    except (ValueError, KeyError, TypeError):
        return payload[:200].decode("utf-8", "replace")
