"""Keeps the Helm chart in step with what ``aivitals build`` generates.

Helm reads files only from inside the chart, so the generated rule files and
dashboards are mirrored into ``helm/aivitals/files/``; the thresholds part of
``values.schema.json`` is rebuilt from the catalogue so a mistyped config key
fails at install time; and the chart's README is regenerated from
``values.yaml`` and the schema. Every write is skipped when the bytes are
already right, so a second run changes nothing.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..catalogue import VITALS, Comparison, Threshold

CHART_DIR = Path("helm") / "aivitals"
#: (source folder in the repository, pattern, folder inside the chart)
MIRRORS = (("alerts", "*.yaml", Path("files") / "rules"), ("dashboards", "*.json", Path("files") / "dashboards"))
LEVELS = ("warning", "critical")


def _write(path: Path, data: bytes) -> bool:
    """Write ``data`` unless the file already holds it; True when it changed."""
    if path.is_file() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return True


def mirror(source: Path, pattern: str, target: Path) -> list[Path]:
    """Make ``target``'s ``pattern`` files byte-equal to ``source``'s; return what changed.

    A missing source folder mirrors as empty, so a rule file removed upstream
    leaves the chart too.
    """
    wanted = {p.name: p.read_bytes() for p in sorted(source.glob(pattern)) if p.is_file()} if source.is_dir() else {}
    changed = [target / name for name, data in wanted.items() if _write(target / name, data)]
    if target.is_dir():
        for stale in sorted(target.glob(pattern)):
            if stale.name not in wanted:
                stale.unlink()
                changed.append(stale)
    return changed


def _level_schema(t: Threshold, level: str) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "number", "description": f"{level} threshold (default {getattr(t, level):g})"}
    if t.minimum is not None:
        node["minimum"] = t.minimum
    if t.maximum is not None:
        node["maximum"] = t.maximum
    return node


def threshold_schema(t: Threshold, title: str) -> dict[str, Any]:
    """The JSON schema of one config key: its levels and per-service/model overrides."""
    levels = {level: _level_schema(t, level) for level in LEVELS if getattr(t, level) is not None}
    per_item = {"type": "object", "additionalProperties": False, "minProperties": 2,
                "properties": {"service": {"type": "string", "minLength": 1},
                               "model": {"type": "string", "minLength": 1}, **levels}}
    word = "above" if t.comparison is Comparison.ABOVE else "below"
    defaults = ", ".join(f"{level} {getattr(t, level):g}" for level in levels)
    return {"type": "object", "additionalProperties": False,
            "description": f"{title}: alerts when the value is {word} the threshold for {t.for_}; "
                           f"defaults {defaults}.",
            "properties": {**levels, "per": {"type": "array", "items": per_item}}}


def thresholds_schema() -> dict[str, Any]:
    """The schema of the ``thresholds`` value: one property per catalogue config key, nothing else."""
    props = {t.config_key: threshold_schema(t, v.title) for v in VITALS for t in v.thresholds}
    return {"type": "object", "additionalProperties": False,
            "description": "Per-vital thresholds keyed by the catalogue's config keys.",
            "properties": dict(sorted(props.items()))}


def schema_text(chart_dir: Path) -> str:
    """``values.schema.json`` with its thresholds block rebuilt from the catalogue."""
    schema = json.loads((chart_dir / "values.schema.json").read_text())
    schema["properties"]["thresholds"] = thresholds_schema()
    return json.dumps(schema, indent=2) + "\n"


def sync_chart(repo_root: Path | str) -> list[Path]:
    """Mirror ``alerts/`` and ``dashboards/`` into the chart, rebuild the schema's
    thresholds and the README; return the paths that changed."""
    from .chart_docs import render_readme  # the README reads the schema written here

    root = Path(repo_root)
    chart = root / CHART_DIR
    changed: list[Path] = []
    for source, pattern, target in MIRRORS:
        changed += mirror(root / source, pattern, chart / target)
    if _write(chart / "values.schema.json", schema_text(chart).encode()):
        changed.append(chart / "values.schema.json")
    if _write(chart / "README.md", render_readme(chart).encode()):
        changed.append(chart / "README.md")
    return changed


def drift(repo_root: Path | str) -> list[str]:
    """What ``sync_chart`` would change, without writing: empty when the chart is current."""
    from .chart_docs import render_readme

    root = Path(repo_root)
    chart = root / CHART_DIR
    problems: list[str] = []
    for source, pattern, target in MIRRORS:
        src = {p.name: p.read_bytes() for p in (root / source).glob(pattern)} if (root / source).is_dir() else {}
        dst = {p.name: p.read_bytes() for p in (chart / target).glob(pattern)} if (chart / target).is_dir() else {}
        problems += [f"{CHART_DIR / target / n} differs from {source}/{n}" for n in sorted(src.keys() | dst.keys())
                     if src.get(n) != dst.get(n)]
    if (chart / "values.schema.json").read_text() != schema_text(chart):
        problems.append(f"{CHART_DIR}/values.schema.json: thresholds differ from the catalogue")
    if (chart / "README.md").read_text() != render_readme(chart):
        problems.append(f"{CHART_DIR}/README.md differs from what values.yaml and the schema generate")
    return problems


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--root", type=Path, default=Path("."), help="repository root (default: .)")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 when the chart is stale")


def run(args: argparse.Namespace) -> int:
    if args.check:
        problems = drift(args.root)
        for problem in problems:
            print(problem)
        return 1 if problems else 0
    for path in sync_chart(args.root):
        print(f"updated {path}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m aivitals.codegen.chart [--check] [--root DIR]``: sync the chart, or exit 1 when it is stale."""
    parser = argparse.ArgumentParser(
        prog="python -m aivitals.codegen.chart",
        description="Copy the generated rules and dashboards into the Helm chart and regenerate its README "
                    "(aivitals build does the same); --check changes nothing and exits 1 when the chart is stale.")
    _arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
