"""``aivitals evaluate INPUT.jsonl``: every evaluator over a file, offline, for CI gates and calibration.

Exit status: 0 when the file was evaluated; 2 on unreadable input (the line is named).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from .base import Sample
from .calibrate import calibrate
from .judge import Judge
from .records import RecordError, sample_from
from .suite import Evaluation, Suite, default_evaluators

#: The fields of each output record, in order (the issue's JSON shape).
FIELDS = ("id", "groundedness", "hallucinated", "context_precision", "context_recall", "refused", "cited",
          "citations_valid", "pii", "secrets", "toxicity", "method")


class InputError(Exception):
    """Unreadable input: the message names the file, the line and the fix."""


def read(path: str, suite: Suite, samples: list[Sample] | None = None) -> list[Evaluation]:
    """Evaluate every record of the JSONL file at ``path``; ``samples`` (if given) collects what was read."""
    try:
        handle = open(path, encoding="utf-8", errors="replace")  # noqa: SIM115 (closed below)
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}; pass a readable JSONL file") from None
    results = []
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record_id, sample = sample_from(json.loads(line))
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}:{number}: not JSON ({exc.msg}); write one JSON object a line") from None
            except RecordError as exc:
                raise InputError(f"{path}:{number}: {exc}") from None
            results.append(suite.evaluate(sample, record_id or str(number)))
            if samples is not None:
                samples.append(sample)
    return results


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _share(flags: list[bool]) -> float | None:
    return sum(flags) / len(flags) if flags else None


def summary(results: list[Evaluation]) -> dict[str, Any]:
    """Rates and means over the records; each over the records that have the value."""
    kinds: dict[str, int] = {}
    for r in results:
        for kind in (*r.pii, *r.secrets):
            kinds[kind] = kinds.get(kind, 0) + 1
    return {
        "records": len(results),
        "groundedness_mean": _mean([r.groundedness for r in results if r.groundedness is not None]),
        "hallucination_rate": _share([r.hallucinated for r in results if r.hallucinated is not None]),
        "context_precision_mean": _mean([r.context_precision for r in results if r.context_precision is not None]),
        "context_recall_mean": _mean([r.context_recall for r in results if r.context_recall is not None]),
        "refusal_rate": _share([r.refused for r in results]),
        "citation_rate": _share([r.cited for r in results]),
        "citations_valid_rate": _share([r.citations_valid for r in results if r.citations_valid is not None]),
        "pii_leak_rate": _share([bool(r.pii) for r in results]),
        "secret_leak_rate": _share([bool(r.secrets) for r in results]),
        "leaked_kinds": dict(sorted(kinds.items())),
        "toxicity_max": max((r.toxicity for r in results if r.toxicity is not None), default=None),
        "truncated": sum(r.truncated for r in results),
        "evaluator_errors": sum(len(r.errors) for r in results),
    }


def _record(result: Evaluation) -> dict[str, Any]:
    data = result.as_json()
    return {key: data[key] for key in FIELDS}


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, list):
        return ",".join(value) or "-"
    return str(value)


def table(results: list[Evaluation]) -> str:
    columns = [f for f in FIELDS if f != "method"]
    rows = [[_cell(getattr(r, f)) for f in columns] for r in results]
    widths = [max([len(c)] + [len(row[i]) for row in rows]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in rows]
    s = summary(results)
    lines.append(f"{s['records']} record(s); hallucination rate {_cell(s['hallucination_rate'])}, refusal rate "
                 f"{_cell(s['refusal_rate'])}, PII leaks {_cell(s['pii_leak_rate'])}, secret leaks "
                 f"{_cell(s['secret_leak_rate'])}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="aivitals evaluate",
                                     description="Run every evaluator over a JSONL file of responses.")
    parser.add_argument("input", help="JSONL: one {id, question, response, contexts, user_input?, "
                                      "relevant_context_ids?} object a line")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.add_argument("--judge-url", help="base URL of an OpenAI-compatible endpoint for the LLM judge (opt-in)")
    parser.add_argument("--judge-model", help="the judge's model name (needed with --judge-url)")
    parser.add_argument("--judge-api-key", default="", help="the judge's API key (or none for a local server)")
    parser.add_argument("--judge-calls-per-minute", type=float, default=600.0,
                        help="the judge's rate budget (default 600; calls over it fall back to the lexical "
                             "evaluator, and are counted as rate_limited)")
    parser.add_argument("--calibrate", action="store_true",
                        help="with a judge: compare the lexical groundedness score with the judge's verdicts on "
                             "these records (AUROC, the best threshold, agreement)")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    if bool(args.judge_url) != bool(args.judge_model):
        print("aivitals evaluate: --judge-url and --judge-model go together; give both or neither", file=sys.stderr)
        return 2
    if args.calibrate and not args.judge_url:
        print("aivitals evaluate: --calibrate compares with the judge: give --judge-url and --judge-model",
              file=sys.stderr)
        return 2
    if not args.judge_calls_per_minute > 0:
        print("aivitals evaluate: --judge-calls-per-minute must be above 0", file=sys.stderr)
        return 2
    judge = Judge(args.judge_url, args.judge_model, args.judge_api_key,
                  calls_per_minute=args.judge_calls_per_minute) if args.judge_url else None
    samples: list[Sample] = []
    try:
        results = read(args.input, Suite(default_evaluators(judge)), samples)
    except InputError as exc:
        print(f"aivitals evaluate: {exc}", file=sys.stderr)
        return 2
    calibration = calibrate(samples, judge).as_json() if args.calibrate and judge is not None else None
    if args.format == "json":
        out: dict[str, Any] = {"records": [_record(r) for r in results], "summary": summary(results)}
        if judge is not None:
            out["summary"]["judge_calls"] = dict(judge.stats.calls)
        if calibration is not None:
            out["calibration"] = calibration
        print(json.dumps(out, indent=2, sort_keys=False))
    else:
        print(table(results))
        if calibration is not None:
            print("calibration against the judge: " + ", ".join(f"{k} {_cell(v)}" for k, v in calibration.items()))
    return 0
