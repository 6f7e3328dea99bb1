"""``aivitals build``: rules, rule tests, dashboards and docs, all from the catalogue.

Everything is rendered in memory first; a bad thresholds config stops the
build before any file is written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..config import ConfigError, load
from . import docs

DEFAULT_RUNBOOK_URL = "docs/runbooks.md"


def render_all(runbook_url: str = DEFAULT_RUNBOOK_URL) -> dict[str, str]:
    """Relative path -> file content for every generated file."""
    from .dashboards import render_dashboards
    from .rules import alert_groups, recording_groups
    from .rules.files import dump
    from .rules.runbooks import render as runbooks
    from .rules.unittests import render_tests

    files = {
        "alerts/aivitals-recording.yaml": dump({"groups": recording_groups()}),
        "alerts/aivitals-alerts.yaml": dump({"groups": alert_groups(runbook_url)}),
        "docs/vitals.md": docs.render(),
        "docs/runbooks.md": runbooks(),
    }
    files.update({f"alerts/tests/{name}": dump(doc) for name, doc in render_tests(runbook_url).items()})
    files.update({f"dashboards/{name}": text for name, text in render_dashboards().items()})
    return files


def write(files: dict[str, str], out: Path) -> None:
    for rel, text in sorted(files.items()):
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="thresholds file (YAML or JSON) to validate first")
    parser.add_argument("--out", type=Path, default=Path("."), help="directory to write into (default: .)")
    parser.add_argument("--runbook-url", default=DEFAULT_RUNBOOK_URL,
                        help="base of the alerts' runbook_url (default: docs/runbooks.md)")


def run(args: argparse.Namespace) -> int:
    if args.config is not None:
        try:
            load(args.config)
        except ConfigError as exc:
            print(f"aivitals build: {exc}", file=sys.stderr)
            return 2
    files = render_all(args.runbook_url)
    write(files, args.out)
    print(f"aivitals build: wrote {len(files)} files under {args.out}")
    if (args.out / "helm" / "aivitals" / "Chart.yaml").is_file():
        from .chart import sync_chart

        changed = sync_chart(args.out)
        print(f"aivitals build: the Helm chart holds the same rules and dashboards ({len(changed)} files changed)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="aivitals build",
        description="Generate the recording and alerting rules, their promtool tests, the runbooks, the Grafana "
                    "dashboards and the docs from the catalogue, and keep the Helm chart's copies in step. "
                    "Everything is rendered in memory first: a bad thresholds config stops the build before any "
                    "file is written.")
    _arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
