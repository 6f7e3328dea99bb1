"""The aivitals command: its subcommands are reachable and exit with their codes."""

from __future__ import annotations

import subprocess
import sys

import numpy as np


def aivitals(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "aivitals", *args], capture_output=True, text=True, timeout=120)


def test_version_and_help_name_every_command():
    assert aivitals("--version").stdout.startswith("aivitals ")
    help_text = aivitals("--help").stdout
    for command in ("demo", "reference", "drift"):
        assert command in help_text


def test_reference_build_then_drift_exits_one_on_shifted_data(tmp_path):
    rng = np.random.default_rng(0)
    reference, same, shifted = (tmp_path / name for name in ("ref.csv", "same.csv", "shifted.csv"))
    for path, loc in ((reference, 0.0), (same, 0.0), (shifted, 1.5)):
        rows = "\n".join(f"{x:.6f}" for x in rng.normal(loc, 1.0, 2000))
        path.write_text("amount\n" + rows + "\n")
    profile = tmp_path / "profile.json"
    built = aivitals("reference", "build", str(reference), "--out", str(profile))
    assert built.returncode == 0, built.stderr
    assert aivitals("drift", str(profile), str(same)).returncode == 0
    drifted = aivitals("drift", str(profile), str(shifted), "--format", "json")
    assert drifted.returncode == 1, drifted.stderr
    assert '"amount"' in drifted.stdout
    assert aivitals("drift", str(profile), str(tmp_path / "missing.csv")).returncode == 2
