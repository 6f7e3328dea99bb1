"""Every example in examples/ runs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from aivitals.promserver import free_port

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_quickstart_prints_the_requests_it_made():
    result = subprocess.run([sys.executable, str(EXAMPLES / "quickstart.py"), "--port", str(free_port()),
                             "--calls", "7"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert 'outcome="ok",provider="openai",service="default"} 7.0' in result.stdout


def test_the_fastapi_example_serves_its_route_and_metrics():
    sys.path.insert(0, str(EXAMPLES))
    try:
        import fastapi_app
        from fastapi.testclient import TestClient
    finally:
        sys.path.remove(str(EXAMPLES))
    client = TestClient(fastapi_app.app)
    assert client.get("/ask", params={"q": "hi"}).json() == {"answer": "Hello"}
    answer = client.get("/metrics", follow_redirects=False)
    assert answer.status_code == 200, "an exact route: no 307 redirect to /metrics/"
    assert 'aivitals_requests_total{model="claude-haiku-4-5"' in answer.text


@pytest.mark.slow
def test_the_fastapi_example_under_several_workers_serves_every_workers_calls(tmp_path):
    """Multiprocess mode: any worker's /metrics sums the calls all workers answered."""
    multiproc = tmp_path / "multiproc"
    multiproc.mkdir()
    port = free_port()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(multiproc)}
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "fastapi_app:app", "--port", str(port),
                               "--host", "127.0.0.1", "--workers", "2", "--app-dir", str(EXAMPLES)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_until(lambda: httpx.get(f"{base}/ask", params={"q": "hi"}).status_code == 200)
        for _ in range(19):
            assert httpx.get(f"{base}/ask", params={"q": "hi"}).json() == {"answer": "Hello"}
        pattern = re.compile(r'^aivitals_requests_total\{[^}]*model="claude-haiku-4-5"[^}]*\} (\S+)$', re.M)

        def total() -> float:
            return sum(float(v) for v in pattern.findall(httpx.get(f"{base}/metrics").text))

        _wait_until(lambda: total() == 20)
        assert len(list(multiproc.glob("counter_*.db"))) >= 1
    finally:
        server.terminate()
        server.wait(timeout=30)


def _wait_until(check, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.2)
