"""The sidecar refuses to take unauthenticated writes from the network: beyond loopback it needs a token."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from _sidecar import SRC
from aivitals.sidecar.server import BackgroundSidecar, check_exposure, is_loopback
from aivitals.sidecar.settings import Settings, SettingsError


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("[::1]", True), ("localhost", True),
    ("0.0.0.0", False), ("::", False), ("10.1.2.3", False), ("sidecar.internal", False), ("", False),
])
def test_only_loopback_addresses_count_as_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_serve_beyond_loopback_without_a_token_exits_2_with_one_line_naming_the_fix(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "AIVITALS_API_TOKEN"}
    env["PYTHONPATH"] = str(SRC)
    done = subprocess.run([sys.executable, "-m", "aivitals.cli", "serve", "--host", "0.0.0.0", "--port", "0",
                           "--store", str(tmp_path / "s.db")], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr
    assert "0.0.0.0" in lines[0] and "AIVITALS_API_TOKEN" in lines[0]
    assert not (tmp_path / "s.db").exists()  # refused before anything was opened


def test_a_token_or_loopback_lets_it_start() -> None:
    check_exposure(Settings(host="0.0.0.0", token="long-enough-token"))
    check_exposure(Settings(host="127.0.0.1"))
    with pytest.raises(SettingsError, match="without an API token"):
        check_exposure(Settings(host="0.0.0.0"))


def test_the_background_sidecar_refuses_too(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="without an API token"):
        BackgroundSidecar(Settings(store=tmp_path / "s.db", host="0.0.0.0", port=0))
