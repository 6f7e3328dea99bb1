"""The ``aivitals`` command."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from .problems import UserProblem, missing_module


def _demo(args: argparse.Namespace) -> int:
    from .demo import Demo, DemoOptions

    options = DemoOptions(duration=args.duration, port=args.port, seed=args.seed, speed=args.speed,
                          plain=args.plain or not sys.stdout.isatty(), hold=args.hold, prometheus=args.prometheus,
                          sidecar=not args.no_sidecar, sidecar_port=args.sidecar_port)
    return Demo(options).run()


def _delegate(module: str, prefix: Sequence[str] = ()) -> Callable[[argparse.Namespace], int]:
    """Run a subcommand whose module parses its own arguments."""

    def run(args: argparse.Namespace) -> int:
        from importlib import import_module

        return int(import_module(module).main([*prefix, *args.rest]))

    return run


_DELEGATED = {
    "build": ("aivitals.codegen.build", "generate alerts/, dashboards/ and docs/ from the catalogue (and the Helm "
                                        "chart's copies)"),
    "serve": ("aivitals.sidecar.server", "run the sidecar: a durable event API for labels, outcomes, users, "
                                         "surveys, incidents and training runs"),
    "reference": ("aivitals.drift.profile", "build a reference profile: aivitals reference build DATA --out FILE"),
    "drift": ("aivitals.drift.cli", "compare data to a reference: PSI, KS and JS per feature; exit 1 on drift"),
    "evaluate": ("aivitals.evaluators.cli", "run the quality and safety evaluators over a JSONL file of responses "
                                            "(groundedness, PII, refusals, citations, ...)"),
    "report": ("aivitals.report.cli", "write the monthly business review of a month from Prometheus (HTML, PDF, "
                                      "JSON)"),
    "probe": ("aivitals.probe.cli", "run the versioned jailbreak and prompt-injection suite against an "
                                    "OpenAI-compatible endpoint; exit 1 on a regression"),
}


def _positive(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="aivitals", description="The vitals of AI systems in production.")
    root.add_argument("--version", action="version", version=_version())
    root.add_argument("--debug", action="store_true",
                      help="show the traceback of a failure instead of one line (also AIVITALS_DEBUG=1)")
    commands = root.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="run a simulated AI service and show the executive tiles live",
                               description="Runs a simulated LLM assistant and classifier instrumented with "
                                           "aivitals, serves /metrics on 127.0.0.1 and shows the six executive "
                                           "tiles live. Needs no external service.")
    demo.add_argument("--duration", type=float, default=0.0,
                      help="real seconds to run the traffic (default: until Ctrl-C)")
    demo.add_argument("--port", type=int, default=9464, help="port for /metrics on 127.0.0.1 (default 9464)")
    demo.add_argument("--seed", type=int, default=1, help="random seed: the same seed gives the same tickets")
    demo.add_argument("--speed", type=_positive, default=60.0,
                      help="simulated seconds per real second (default 60: an hour a minute)")
    demo.add_argument("--plain", action="store_true", help="one plain line per refresh, for scripts")
    demo.add_argument("--hold", action="store_true",
                      help="after --duration, keep serving /metrics until Ctrl-C or SIGTERM")
    demo.add_argument("--sidecar-port", type=int, default=9477,
                      help="port for the sidecar beside the demo, on 127.0.0.1 (default 9477; 0 picks a free one)")
    demo.add_argument("--no-sidecar", action="store_true",
                      help="run without the sidecar: the KPI, adoption and time-to-detect tiles stay empty")
    demo.add_argument("--prometheus", action="store_true",
                      help="also start a local Prometheus (needs the prometheus binary on PATH)")
    demo.set_defaults(run=_demo)

    for name, (module, summary) in _DELEGATED.items():
        sub = commands.add_parser(name, help=summary, add_help=False, prefix_chars="\0")
        sub.add_argument("rest", nargs=argparse.REMAINDER)
        sub.set_defaults(run=_delegate(module))
    return root


def _version() -> str:
    from ._version import __version__

    return f"aivitals {__version__}"


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    debug = args.debug or bool(os.environ.get("AIVITALS_DEBUG"))
    try:
        return int(args.run(args))
    except KeyboardInterrupt:
        return 130
    except (UserProblem, ModuleNotFoundError) as exc:
        if debug:
            raise
        text = missing_module(exc.name) if isinstance(exc, ModuleNotFoundError) else str(exc)
        print(f"aivitals {args.command}: {text}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
