"""Every example in examples/ runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
    metrics = client.get("/metrics/").text
    assert 'aivitals_requests_total{model="claude-haiku-4-5"' in metrics
