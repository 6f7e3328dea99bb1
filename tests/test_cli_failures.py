"""Every failure a user can cause is one line naming the problem and the fix, exit 2, no traceback."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest


def run(*args: str, code: str | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", code, *args] if code else [sys.executable, "-m", "aivitals", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_the_demo_on_a_busy_port_names_the_port_and_the_flag(busy_port):
    result = run("demo", "--port", str(busy_port), "--duration", "1", "--no-sidecar", "--plain")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [f"aivitals demo: port {busy_port} on 127.0.0.1 is in use (another demo?); "
                                       "pass --port with a free one"]


def test_the_demo_with_its_sidecar_port_busy_names_the_flag(busy_port):
    result = run("demo", "--sidecar-port", str(busy_port), "--port", "0", "--duration", "1", "--plain")
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith("aivitals demo: ") and f"127.0.0.1:{busy_port}" in line
    assert "--sidecar-port" in line and "--no-sidecar" in line


MISSING_CODEGEN = ("import sys; sys.modules['grafana_foundation_sdk'] = None; from aivitals.cli import main; "
                   "sys.exit(main(sys.argv[1:]))")


def test_build_without_the_codegen_extra_names_the_install(tmp_path):
    result = run("build", "--out", str(tmp_path), code=MISSING_CODEGEN)
    assert result.returncode == 2
    assert result.stderr.strip() == ("aivitals build: this needs the codegen extra (grafana_foundation_sdk is not "
                                     "installed): pip install 'aivitals[codegen]'")


def test_debug_keeps_the_traceback_for_bug_reports(tmp_path):
    result = run("--debug", "build", "--out", str(tmp_path), code=MISSING_CODEGEN)
    assert result.returncode == 1 and "Traceback" in result.stderr and "ModuleNotFoundError" in result.stderr
