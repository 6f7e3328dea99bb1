"""Soak: millions of calls through every SDK form leave resident memory where it was."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

CALLS_PER_FORM = 400_000
#: Allocator noise is tens of kilobytes; the leak this guards against (a ContextVar per ``with``)
#: was about 130 bytes a call, 50 MB at this many calls.
MAX_GROWTH_BYTES = 4 * 1024 * 1024


@pytest.mark.slow
def test_memory_does_not_grow_with_the_number_of_calls_in_any_form():
    script = Path(__file__).with_name("sdk_soak.py")
    result = subprocess.run([sys.executable, str(script), str(CALLS_PER_FORM)], capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["sdk_errors"] == 0
    growth = {form: f["rss_growth_bytes"] for form, f in figures["soak"].items()}
    assert set(growth) == {"sync_and_dynamic", "async_and_async_generator", "generator", "context_manager",
                           "record_functions"}
    assert all(bytes_ < MAX_GROWTH_BYTES for bytes_ in growth.values()), growth
