"""docs/collectors.md names every collector metric and every error field, so it cannot fall behind the code."""

from __future__ import annotations

from pathlib import Path

from aivitals.catalogue import METRICS, Source
from aivitals.collectors import gpu, host

DOC = (Path(__file__).resolve().parents[1] / "docs" / "collectors.md").read_text(encoding="utf-8")


def test_every_collector_metric_is_documented() -> None:
    missing = [m.name for m in METRICS if m.source is Source.COLLECTOR and f"`{m.name}`" not in DOC]
    assert not missing


def test_every_error_field_is_documented() -> None:
    missing = [field for field in gpu.FIELDS + host.FIELDS if f"`{field}`" not in DOC]
    assert not missing


def test_the_standard_process_names_are_documented() -> None:
    assert all(f"`{name}`" in DOC for name in host.STANDARD_PROCESS)
