"""Where the shared schemas live: ``shared/`` beside the checkout in CI, or $AIVITALS_SHARED."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def shared_dir() -> Path:
    """$AIVITALS_SHARED, else the first ``shared/schemas`` beside the repo or above it, else /work/shared."""
    env = os.environ.get("AIVITALS_SHARED")
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).resolve().parents[2] / "shared")
    candidates += [parent / "shared" for parent in Path(__file__).resolve().parents]
    candidates.append(Path("/work/shared"))
    for candidate in candidates:
        if (candidate / "schemas").is_dir():
            return candidate
    pytest.skip("shared/schemas not found: set AIVITALS_SHARED to the shared directory")
    raise AssertionError  # unreachable: skip raises
