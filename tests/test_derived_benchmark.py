"""benchmarks/derived.py runs and ends on one JSON object holding its figures (a smoke run: no timing is judged)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_the_derived_benchmark_prints_its_figures_as_json_last() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "derived.py"), "--predictions", "2000",
                           "--rounds", "2"], capture_output=True, text=True, timeout=120, cwd=ROOT, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["benchmark"] == "derived" and figures["predictions"] == 2000
    assert figures["in_request_scrape_s_min"] > 0 and figures["background_scrape_s_max"] > 0
    assert figures["ratio_background_over_in_request"] == pytest.approx(
        figures["background_scrape_s_max"] / figures["in_request_scrape_s_min"], rel=1e-3)
