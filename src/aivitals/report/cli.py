"""``aivitals report``: write the monthly business review of a month from Prometheus.

Exit 0 with the files written; exit 2 with one line on stderr naming the
problem and the fix (an unreachable or wrong URL, a 401, a month in the
future or malformed, an empty store); no traceback unless ``--debug``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from .errors import ReportError
from .period import Month

FORMATS = ("html", "pdf", "json")
DEFAULT_TOKEN_ENV = "AIVITALS_PROMETHEUS_TOKEN"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        """One line naming the problem and the fix, exit 2, as every failure of the command."""
        print(f"aivitals report: {message}: see aivitals report --help", file=sys.stderr)
        raise SystemExit(2)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="aivitals report", description=__doc__.split("\n\n")[0])
    parser.add_argument("--prometheus", required=True, help="base URL of Prometheus or a compatible store")
    parser.add_argument("--month", help="YYYY-MM, UTC (default: the last complete month)")
    parser.add_argument("--out", type=Path, default=Path("."), help="directory to write into (default: .)")
    parser.add_argument("--format", default="html,json", help="comma-separated: html, pdf, json (default html,json)")
    parser.add_argument("--service", help="only this service's model calls (business series are per deployment)")
    parser.add_argument("--config", type=Path, help="a thresholds file (YAML or JSON) to check first")
    parser.add_argument("--bearer-token-env", default=None,
                        help=f"environment variable holding a bearer token (default {DEFAULT_TOKEN_ENV}, if set)")
    parser.add_argument("--require-complete", action="store_true",
                        help="refuse a month the store does not fully cover instead of stating the covered days")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per query (default 60)")
    parser.add_argument("--debug", action="store_true", help="show a traceback on failure")
    return parser


def _formats(text: str) -> list[str]:
    chosen = [f.strip().lower() for f in text.split(",") if f.strip()]
    unknown = sorted(set(chosen) - set(FORMATS))
    if unknown or not chosen:
        raise ReportError(f"--format {text!r} names {', '.join(unknown) or 'nothing'}",
                          f"choose from {', '.join(FORMATS)}, e.g. --format html,pdf,json")
    return chosen


def _token(variable: str | None) -> str | None:
    if variable is None:
        return os.environ.get(DEFAULT_TOKEN_ENV) or None
    token = os.environ.get(variable, "").strip()
    if not token:
        raise ReportError(f"--bearer-token-env {variable}: that environment variable is empty or unset",
                          f"export {variable}=<token> first, or drop --bearer-token-env")
    return token


def _check_config(path: Path | None) -> None:
    if path is None:
        return
    from ..config import ConfigError, load

    try:
        load(path)
    except ConfigError as exc:
        raise ReportError(f"--config {path}: {exc}", "fix the file, or drop --config") from None


def _out_dir(path: Path) -> Path:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReportError(f"--out {path}: cannot create it ({exc.strerror})",
                          "pick a directory you can write to") from None
    return path


def run(args: argparse.Namespace, now: datetime) -> list[Path]:
    from .model import build
    from .query import Prometheus
    from .render_html import render

    formats = _formats(args.format)
    month = Month.parse(args.month) if args.month else Month.last_complete(now)
    _check_config(args.config)
    prometheus = Prometheus(args.prometheus, _token(args.bearer_token_env), args.timeout)
    review = build(prometheus, month, now, args.service, args.require_complete)
    out = _out_dir(args.out)
    stem = out / f"aivitals-mbr-{month}"
    written: list[Path] = []
    html = render(review)
    if "json" in formats:
        path = stem.with_suffix(".json")
        path.write_text(json.dumps(review.as_json(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
        written.append(path)
    if "html" in formats:
        path = stem.with_suffix(".html")
        path.write_text(html, encoding="utf-8")
        written.append(path)
    if "pdf" in formats:
        from .render_pdf import write_pdf

        path = stem.with_suffix(".pdf")
        write_pdf(html, path)
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None, now: datetime | None = None) -> int:
    args = _parser().parse_args(list(argv) if argv is not None else None)
    try:
        written = run(args, now or datetime.now(timezone.utc))
    except ReportError as exc:
        if args.debug:
            raise
        print(f"aivitals report: {exc}", file=sys.stderr)
        return 2
    for path in written:
        print(f"aivitals report: wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
