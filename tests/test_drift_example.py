"""The drift quickstart example runs and finds the drift it stages."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_drift_quickstart_runs_and_reports_drift() -> None:
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "drift_quickstart.py")], capture_output=True,
                            text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    assert result.returncode == 1, result.stderr  # 1: drift found
    assert 'aivitals_feature_bin_observations_total{feature="country"' in result.stdout
    assert "amount" in result.stdout and "2 of 3 feature(s) drifted" in result.stdout
