"""The demo's screen: redrawn in place on the terminal's alternate screen, every URL on it, no colour before data."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time

from aivitals.codegen.promserver import free_port
from aivitals.demo.terminal import ENTER_SCREEN, HOME, LEAVE_SCREEN, frame, plain_line, render
from aivitals.demo.tiles import executive_tiles

GREY, COLOURS = "\033[90m", ("\033[32m", "\033[33m", "\033[31m")


def latency_tile(calls: int, seconds_sum: float):
    tile = next(t for t in executive_tiles() if t.vital.id == "latency_p95")
    bucket = ("aivitals_request_duration_seconds_bucket", frozenset({("le", "+Inf")}))
    le_fast = ("aivitals_request_duration_seconds_bucket", frozenset({("le", "0.5")}))
    count = ("aivitals_request_duration_seconds_count", frozenset())
    now = {bucket: float(calls), le_fast: float(calls), count: float(calls)}
    tile.update(now, {}, 60.0)
    return tile


def test_a_tile_with_too_few_events_says_warming_up_instead_of_a_colour():
    few = latency_tile(3, 0.3)
    assert few.state() == "warming"
    screen = render([few] * 6, "header", "footer")
    assert "warming up" in screen and "3 of 50 events" in screen
    assert not any(colour in screen for colour in COLOURS)
    assert "(warming)" in plain_line([few], "day 1 08:00")
    enough = latency_tile(500, 50.0)
    assert enough.state() == "ok"
    assert "\033[32m" in render([enough] * 6, "header", "footer")


def test_a_frame_draws_over_the_last_one_without_scrolling():
    drawn = frame("one\ntwo")
    assert drawn.startswith(HOME) and drawn.endswith("\033[J")
    assert "\033[2J" not in drawn and drawn.count("\033[K") == 2


def test_the_demo_on_a_terminal_redraws_in_place_and_restores_the_screen():
    primary, secondary = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "aivitals", "demo", "--duration", "4", "--port", str(free_port()),
                                "--sidecar-port", "0"], stdout=secondary, stderr=secondary, stdin=subprocess.DEVNULL,
                               env={**os.environ, "TERM": "xterm"})
    os.close(secondary)
    output = b""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        ready, _, _ = select.select([primary], [], [], 1.0)
        if ready:
            try:
                chunk = os.read(primary, 65536)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
        elif process.poll() is not None:
            break
    process.wait(timeout=30)
    os.close(primary)
    text = output.decode("utf-8", "replace")
    assert process.returncode == 0, text[-2000:]
    inside = text[text.index(ENTER_SCREEN):text.index(LEAVE_SCREEN)]
    frames = inside.split(HOME)[1:]
    assert len(frames) >= 3, "a frame a second"
    assert "\033[2J" not in inside, "no clear-screen that pushes frames into the scrollback"
    assert all("/metrics: http://127.0.0.1:" in f and "sidecar: http://127.0.0.1:" in f for f in frames)
    after = text[text.index(LEAVE_SCREEN):]
    assert "aivitals demo ·" in after, "the last frame is printed once more on the normal screen"
