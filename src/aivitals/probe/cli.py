"""``aivitals probe``: run the jailbreak and prompt-injection suite against an OpenAI-compatible endpoint.

Exit codes: 0 no regression; 1 a regression against the baseline (same suite
version and model); 2 the endpoint could not be reached or gave no usable answer
to some attempts (the reason is printed), or the command was misused.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .compare import Change, NotComparable, compare
from .endpoint import Endpoint
from .runner import Result, run
from .suite import SuiteError, load


class UsageProblem(Exception):
    """A mistake the user can fix: printed as one line, exit 2."""


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="aivitals probe",
        description="Send the shipped, versioned jailbreak and prompt-injection suite to an OpenAI-compatible "
                    "chat-completions endpoint and report the attack success ratio per category. Exit 0: no "
                    "regression; 1: worse than the baseline beyond binomial noise; 2: endpoint unreachable or "
                    "errors.")
    p.add_argument("--base-url", required=True,
                   help="the endpoint's OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1")
    p.add_argument("--model", required=True, help="the model name to send in each request")
    p.add_argument("--api-key-env", metavar="VAR", help="environment variable holding the API key (sent as Bearer)")
    p.add_argument("--system-prompt", metavar="FILE", type=Path,
                   help="your application's system prompt; a canary is appended to it for prompt-leak probes")
    p.add_argument("--model-version", default="", help="the release under test, e.g. a git tag or image digest")
    p.add_argument("--baseline", metavar="FILE", type=Path,
                   help="a previous --format json result: exit 1 if this run is worse (same suite version and model)")
    p.add_argument("--sidecar", metavar="URL",
                   help="the aivitals sidecar: the baseline is the model's previous release kept there, and a "
                        "complete run is posted to it (aivitals_probe_* metrics, the jailbreak regression alert)")
    p.add_argument("--sidecar-token-env", metavar="VAR", default="AIVITALS_API_TOKEN",
                   help="environment variable holding the sidecar's API token (default AIVITALS_API_TOKEN)")
    p.add_argument("--format", choices=("table", "json"), default="table", help="output format (default table)")
    p.add_argument("--concurrency", type=int, default=4, help="requests in flight at once (default 4)")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds allowed for one whole answer (default 60)")
    p.add_argument("--retries", type=int, default=2, help="retries of a failed request (default 2)")
    p.add_argument("--repeats", type=int, default=1,
                   help="send each probe this many times, each with a fresh canary (default 1)")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    return p


def _endpoint(args: argparse.Namespace) -> Endpoint:
    api_key = None
    if args.api_key_env:
        api_key = os.environ.get(args.api_key_env)
        if not api_key:
            raise UsageProblem(f"--api-key-env {args.api_key_env}: that variable is not set; export it or drop "
                               "the flag")
    if not args.base_url.startswith(("http://", "https://")):
        raise UsageProblem(f"--base-url {args.base_url!r} is not an http(s) URL; pass e.g. http://127.0.0.1:8000/v1")
    for name in ("concurrency", "repeats"):
        if getattr(args, name) < 1:
            raise UsageProblem(f"--{name} must be at least 1")
    if args.retries < 0 or not args.timeout > 0:
        raise UsageProblem("--retries must be 0 or more and --timeout above 0")
    return Endpoint(args.base_url, args.model, api_key, timeout=args.timeout)


def _system_prompt(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        return path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageProblem(f"--system-prompt {path}: cannot read it ({type(exc).__name__}); pass a UTF-8 text "
                           "file") from None


def _baseline(path: Path | None) -> dict[str, Any] | None:
    if path is None or not path.exists():
        return None
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageProblem(f"--baseline {path}: not a probe result ({type(exc).__name__}); pass the output of "
                           "a previous run with --format json") from None
    if not isinstance(data, dict) or "categories" not in data:
        raise UsageProblem(f"--baseline {path}: not a probe result; pass the output of --format json")
    return data


def _sidecar(args: argparse.Namespace) -> Any:
    if not args.sidecar:
        return None
    from ..sidecar.client import SidecarClient

    if not args.sidecar.startswith(("http://", "https://")):
        raise UsageProblem(f"--sidecar {args.sidecar!r} is not an http(s) URL; pass e.g. http://127.0.0.1:9477")
    return SidecarClient(args.sidecar, os.environ.get(args.sidecar_token_env) or None, retry_for=10.0)


def _sidecar_baseline(client: Any, suite: str, suite_version: str, model: str,
                      model_version: str) -> dict[str, Any] | None:
    """The kept run of another release of this model (the newest), in the shape of a --format json result."""
    from ..sidecar.client import SidecarError, SidecarUnavailable

    try:
        runs = client.probe_results(suite, suite_version, model)
    except (SidecarError, SidecarUnavailable, OSError, ValueError, KeyError) as exc:
        raise UsageProblem(f"--sidecar: cannot read the previous results ({exc}); check the URL and the token "
                           "(--sidecar-token-env)") from None
    other = next((run for run in runs if run["model_version"] != model_version), None)
    if other is None:
        return None
    categories = {c: {"attempts": v["attempts"], "successes": v["successes"]} for c, v in other["categories"].items()}
    return {"suite": suite, "suite_version": suite_version, "model": model, "model_version": other["model_version"],
            "categories": categories, "attempts": sum(v["attempts"] for v in categories.values()),
            "successes": sum(v["successes"] for v in categories.values())}


def _post(client: Any, result: Result) -> None:
    from ..sidecar.client import SidecarError, SidecarUnavailable

    categories = {name: {"attempts": t.attempts, "successes": t.successes}
                  for name, t in result.categories.items() if t.attempts}
    event = {"suite": result.suite, "suite_version": result.suite_version, "model": result.model,
             "model_version": result.model_version, "categories": categories}
    try:
        client.send("probe_result", event)
    except (SidecarError, SidecarUnavailable, OSError) as exc:
        raise UsageProblem(f"--sidecar: the result was not kept ({exc}); rerun when the sidecar is up") from None


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def table(result: Result, changes: list[Change] | None) -> str:
    overall = result.overall
    version = f" ({result.model_version})" if result.model_version else ""
    lines = [f"suite {result.suite} {result.suite_version} · model {result.model}{version}",
             f"{'category':<20}{'attempts':>9}{'successes':>11}{'ratio':>9}{'errors':>8}"]
    for name, tally in [*result.categories.items(), ("overall", overall)]:
        lines.append(f"{name:<20}{tally.attempts:>9}{tally.successes:>11}{_percent(tally.ratio):>9}"
                     f"{tally.errors:>8}")
    for change in changes or ():
        if change.previous is not None:
            mark = "REGRESSION" if change.regressed else "ok"
            lines.append(f"{change.scope:<20} was {_percent(change.previous)}, now {_percent(change.current)}: {mark}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return _main(args)
    except (UsageProblem, SuiteError) as exc:
        if args.debug:
            raise
        print(f"aivitals probe: {exc}", file=sys.stderr)
        return 2


def _main(args: argparse.Namespace) -> int:
    endpoint = _endpoint(args)
    system_prompt = _system_prompt(args.system_prompt)
    baseline = _baseline(args.baseline)
    suite = load()
    sidecar = _sidecar(args)
    if sidecar is not None:
        if not args.model_version:
            raise UsageProblem("--sidecar keeps results per release: give --model-version (a tag or image digest)")
        if baseline is None:
            baseline = _sidecar_baseline(sidecar, suite.name, suite.version, args.model, args.model_version)
    result = run(suite, endpoint, model_version=args.model_version, system_prompt=system_prompt,
                 concurrency=args.concurrency, retries=args.retries, repeats=args.repeats, progress=sys.stderr)
    overall = result.overall
    if overall.attempts == 0:
        reason = "; ".join(f"{kind}: {text}" for kind, text in sorted(result.error_reasons.items()))
        print(f"aivitals probe: no probe got an answer ({reason}); check --base-url and that the endpoint is up",
              file=sys.stderr)
        return 2
    output = result.as_json()
    changes = None
    if baseline is not None:
        try:
            changes = compare(output, baseline)
        except NotComparable as exc:
            print(f"aivitals probe: not compared with the baseline: {exc}", file=sys.stderr)
        else:
            output["regression"] = any(change.regressed for change in changes)
            output["baseline_model_version"] = baseline.get("model_version", "")
    print(json.dumps(output, sort_keys=True) if args.format == "json" else table(result, changes))
    if sidecar is not None and not overall.errors:  # a run with errors is not a release's record
        _post(sidecar, result)
    if overall.errors:
        kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(result.error_kinds.items()))
        print(f"aivitals probe: {overall.errors} of {overall.errors + overall.attempts} attempts got no usable answer "
              f"({kinds}); the ratios cover the answered ones only. Fix the endpoint or raise --timeout/--retries",
              file=sys.stderr)
        return 2
    return 1 if changes and any(change.regressed for change in changes) else 0
