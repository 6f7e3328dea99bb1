"""Smoke test: the instrumentation benchmark runs with tiny sizes and ends with one JSON object (no timing asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("openai")
BENCHMARK = Path(__file__).resolve().parent.parent / "benchmarks" / "instrument.py"


def test_the_instrumentation_benchmark_prints_its_figures_as_json_last():
    out = subprocess.run([sys.executable, str(BENCHMARK), "--calls", "3", "--rounds", "1"], capture_output=True,
                         text=True, check=True, timeout=120).stdout
    figures = json.loads(out.strip().splitlines()[-1])
    assert {"bare_plain_us", "instrumented_plain_us", "overhead_plain_us", "ratio_stream"} <= figures.keys()
