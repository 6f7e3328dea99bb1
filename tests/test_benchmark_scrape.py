"""benchmarks/scrape.py runs and ends on one JSON object holding its figures (a smoke run: no timing is judged)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_the_collector_scrape_benchmark_prints_its_figures_as_json_last() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "scrape.py"), "--only", "collector_scrape",
                           "--seconds", "0.002", "--rounds", "1"], capture_output=True, text=True, timeout=300,
                          cwd=ROOT, check=False)
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout.strip().splitlines()[-1])["results"]["collector_scrape"]

    assert figures["nvml_source"] in ("nvml", "stub-library", "fake-module")
    judged = "gpu_" + figures["nvml_source"].replace("-", "_")
    assert figures["ratio"] == figures[f"{judged}_ratio"] > 0
    assert figures[f"{judged}_samples"] > 0 and figures["host_samples"] > 0
    assert figures[f"{judged}_same_text_as_prometheus_client"] and figures["host_same_text_as_prometheus_client"]
