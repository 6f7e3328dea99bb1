"""benchmarks/overhead.py runs and ends on one JSON object holding its figures (a smoke run: no timing is judged)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_the_overhead_benchmark_prints_its_figures_as_json_last() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "overhead.py"), "--calls", "2000",
                           "--client-blocks", "2", "--client-block", "2"], capture_output=True, text=True,
                          timeout=300, cwd=ROOT, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    for key in ("aivitals_sync_ns", "aivitals_async_ns", "prometheus_client_ns", "opentelemetry_ns",
                "ratio_sync_vs_prometheus_client", "import_aivitals_s"):
        assert figures[key] > 0, key
    assert "client_baseline" in figures or "client_skipped" in figures, "says what the client part compared"
