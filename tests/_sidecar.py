"""Helpers shared by the sidecar tests: a settable clock, reading /metrics, a real uvicorn subprocess."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from aivitals.codegen.promserver import free_port
from aivitals.sidecar import Settings

__all__ = ["NOW", "Clock", "client", "free_port", "metrics", "post", "sample", "samples", "send_to_both_at_once",
           "settings", "sidecar_clock"]

SRC = Path(__file__).resolve().parents[1] / "src"
NOW = 1_790_000_000.0  # 2026-09-21, a fixed "now" for in-process tests


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def settings(tmp_path: Path, **overrides: Any) -> Settings:
    """Settings with declared KPIs, outcomes, groups and costs, storing under tmp_path."""
    base: dict[str, Any] = {
        "store": tmp_path / "sidecar.db",
        "kpis": ("signup", "retention"),
        "outcome_kinds": ("ticket_resolved",),
        "fairness": {"region": ("eu", "us"), "age_band": ("young", "old")},
        "eligible_users": 1000,
        "fixed_costs_usd_per_month": {"compute": 1200.0, "storage": 80.0, "maintenance": 400.0},
        "derived_refresh_seconds": 0.0,
    }
    base.update(overrides)
    return Settings(**base)


def sample(text: str, name: str, labels: Mapping[str, str] | None = None) -> float | None:
    """The value of one sample in an exposition, or None when absent."""
    want = dict(labels or {})
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and s.labels == want:
                return float(s.value)
    return None


def samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """Every sample of one name, keyed by its sorted labels."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name:
                out[tuple(sorted(s.labels.items()))] = float(s.value)
    return out


def post(client: Any, path: str, body: object) -> dict[str, int]:
    """POST through a TestClient, expecting a 200, and return the answer."""
    response = client.post(path, json=body)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def metrics(client: Any) -> str:
    return str(client.get("/metrics").text)


def get(port: int, path: str, timeout: float = 5.0) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def start_sidecar(store: Path, port: int, config: Mapping[str, Any] | None = None,
                  env: Mapping[str, str] | None = None) -> subprocess.Popen[bytes]:
    """``python -m aivitals.sidecar`` on 127.0.0.1:port; returns once /readyz answers 200."""
    args = [sys.executable, "-m", "aivitals.sidecar", "--store", str(store), "--port", str(port)]
    if config is not None:
        path = store.with_suffix(".config.json")
        path.write_text(json.dumps(config))
        args += ["--config", str(path)]
    environ = {**os.environ, "PYTHONPATH": str(SRC), **(env or {})}
    proc = subprocess.Popen(args, env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"sidecar exited: {proc.stderr.read().decode() if proc.stderr else ''}")
        with contextlib.suppress(OSError):
            if get(port, "/readyz", timeout=1.0)[0] == 200:
                return proc
        time.sleep(0.05)
    stop(proc)
    raise RuntimeError("sidecar did not become ready in 30 s")


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    if proc.stderr:
        proc.stderr.close()


@contextlib.contextmanager
def running_sidecar(store: Path, config: Mapping[str, Any] | None = None,
                    env: Mapping[str, str] | None = None) -> Iterator[int]:
    port = free_port()
    proc = start_sidecar(store, port, config, env)
    try:
        yield port
    finally:
        stop(proc)


@pytest.fixture
def sidecar_clock() -> Clock:
    """The sidecar's clock, moved by hand."""
    return Clock()


@pytest.fixture
def client(tmp_path: Path, sidecar_clock: Clock) -> Iterator[Any]:
    """The app on a fresh store, through FastAPI's TestClient."""
    from fastapi.testclient import TestClient

    from aivitals.sidecar import create_app

    with TestClient(create_app(settings(tmp_path), clock=sidecar_clock)) as c:
        yield c


def send_to_both_at_once(clients: tuple[Any, Any], path: str, batches: list[list[Any]]) -> list[int]:
    """Each client posts every batch, both starting together; the ``accepted`` count of every answer (each
    answer checked 200 after the threads end, so a failure in a thread fails the test)."""
    answers: list[tuple[int, str, int]] = []
    barrier = threading.Barrier(len(clients))

    def send(client: Any) -> None:
        barrier.wait()
        for batch in batches:
            response = client.post(path, json=batch)
            answers.append((response.status_code, response.text,
                            response.json().get("accepted", 0) if response.status_code == 200 else 0))

    threads = [threading.Thread(target=send, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(answers) == len(clients) * len(batches)
    assert all(status == 200 for status, _, _ in answers), [text for status, text, _ in answers if status != 200]
    return [count for _, _, count in answers]
