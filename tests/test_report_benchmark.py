"""benchmarks/report.py runs and ends on one JSON object holding its figures (a smoke run: no timing is judged)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
@pytest.mark.prometheus
@pytest.mark.skipif(not (shutil.which("prometheus") and shutil.which("promtool")), reason="no prometheus or promtool")
def test_the_report_benchmark_prints_its_figures_as_json_last() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "report.py"), "--step", "3600", "--rounds", "1"],
                          capture_output=True, text=True, timeout=400, cwd=ROOT, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["benchmark"] == "report" and figures["review_s"] > 0 and figures["queries_alone_s"] > 0
    assert figures["ratio"] == pytest.approx(figures["review_s"] / figures["queries_alone_s"], rel=0.01)
    assert {"aivitals-mbr-2025-03.html", "aivitals-mbr-2025-03.json"} <= set(figures["files"])
