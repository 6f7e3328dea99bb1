"""benchmarks/evaluators.py runs tiny and ends on one JSON object holding its figures (no timing is judged)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_evaluators_benchmark_prints_its_figures_as_json_last() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "evaluators.py"), "--seconds", "0.005"],
                          capture_output=True, text=True, timeout=300, cwd=ROOT, check=False)
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout.strip().splitlines()[-1])["results"]
    assert results["words"]["long"] >= 240 and results["contexts"]["long"] == 9
    assert 30 <= results["words"]["short"] <= 40
    for label in ("short", "long"):
        assert results[label]["all_default_us"] > 0
        assert {"pii", "refusal", "citation", "groundedness", "context_precision", "context_recall"} <= set(
            results[label])
    pii = results["pii"]
    assert pii["ours_recall"] == 1.0 and pii["cases"] >= 10
    assert "speedup" in pii or "not installed" in pii["presidio"]
