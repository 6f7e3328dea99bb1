"""benchmarks/evaluations_ingest.py runs tiny against a real sidecar and ends on one JSON object holding its
figures (a smoke run: no timing is judged, only that every phase ran and the resend was all duplicate)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_the_evaluations_ingest_benchmark_prints_its_figures_as_json_last() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "evaluations_ingest.py"), "--events", "100"],
                          capture_output=True, text=True, timeout=300, cwd=ROOT, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["benchmark"] == "sidecar_evaluations" and figures["events_per_phase"] == 100
    assert figures["inprocess_events_per_second"] > 0 and 20 <= figures["words_per_response"] <= 60
    for phase in ("single", "batch50"):
        assert figures[f"{phase}_events_per_second"] > 0
        assert 0 < figures[f"{phase}_p50_ms"] <= figures[f"{phase}_p99_ms"]
        assert figures[f"{phase}_durable_over_inprocess"] == pytest.approx(
            figures[f"{phase}_events_per_second"] / figures["inprocess_events_per_second"], rel=0.01)
    assert figures["batch50_resent_events_per_second"] > 0 and figures["resent_over_new"] > 0
