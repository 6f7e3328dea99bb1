"""Time to write a one-service monthly review (HTML, PDF and JSON), queries included, against the queries alone.

A Prometheus is started on 127.0.0.1 over two months of one service's
series (2025-02 and 2025-03, a sample every ``--step`` seconds) backfilled
with promtool (the set-up, not timed), and stopped by its pid. The baseline, measured in the same
run, is the raw work any review must do: the store's answers to the
review's queries (coverage and figures, both months). The target is the
whole review under 10 s. Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

from aivitals.codegen.promserver import free_port
from aivitals.report.cli import main as report
from aivitals.report.coverage import measure
from aivitals.report.figures import read_month
from aivitals.report.period import Month
from aivitals.report.query import Prometheus

MONTH = Month(2025, 3)
NOW = datetime(2025, 5, 15, tzinfo=timezone.utc)
TARGET_S = 10.0
LABELS = 'service="assistant",model="gpt-4o-mini",provider="openai"'
#: Per-sample increments of one service's counters: calls, tokens, cost, business, labels, surveys.
COUNTERS = {
    f'aivitals_requests_total{{{LABELS},outcome="ok"}}': 30.0,
    f'aivitals_requests_total{{{LABELS},outcome="error"}}': 0.2,
    f'aivitals_tokens_total{{{LABELS},token_type="input"}}': 24000.0,
    f'aivitals_tokens_total{{{LABELS},token_type="output"}}': 3000.0,
    f'aivitals_cost_usd_total{{{LABELS},cost_kind="input"}}': 0.004,
    'aivitals_business_value_usd_total{outcome_kind="resolved",cohort="treatment"}': 2.0,
    'aivitals_business_outcomes_total{outcome_kind="resolved",cohort="treatment"}': 0.1,
    'aivitals_confusion_total{model="clf",class_outcome="tp"}': 4.0,
    'aivitals_confusion_total{model="clf",class_outcome="tn"}': 5.0,
    'aivitals_confusion_total{model="clf",class_outcome="fp"}': 0.5,
    'aivitals_confusion_total{model="clf",class_outcome="fn"}': 0.5,
    'aivitals_survey_responses_total{category="promoter"}': 0.02,
    'aivitals_survey_responses_total{category="detractor"}': 0.01,
}
BUCKETS = {"0.5": 24.0, "1": 29.0, "2.5": 30.2, "+Inf": 30.2}


def openmetrics(start: float, end: float, step: int) -> str:
    times = range(int(start), int(end) + 1, step)
    lines: list[str] = []
    families: dict[str, list[str]] = {}
    for series, inc in COUNTERS.items():
        family = series.split("{")[0].removesuffix("_total")
        families.setdefault(family, []).extend(f"{series} {i * inc:.4f} {t}" for i, t in enumerate(times))
    for family, rows in families.items():
        lines += [f"# TYPE {family} counter", *rows]
    lines.append("# TYPE aivitals_request_duration_seconds histogram")
    for le, inc in BUCKETS.items():
        lines += [f'aivitals_request_duration_seconds_bucket{{{LABELS},le="{le}"}} {i * inc:.4f} {t}'
                  for i, t in enumerate(times)]
    lines += [f"aivitals_request_duration_seconds_count{{{LABELS}}} {i * 30.2:.4f} {t}" for i, t in enumerate(times)]
    lines += [f"aivitals_request_duration_seconds_sum{{{LABELS}}} {i * 12.0:.4f} {t}" for i, t in enumerate(times)]
    lines.append("# TYPE aivitals_fixed_cost_usd_per_month gauge")
    for bucket, usd in (("compute", 1560.0), ("storage", 9.25), ("maintenance", 2175.0)):
        lines += [f'aivitals_fixed_cost_usd_per_month{{bucket="{bucket}"}} {usd} {t}' for t in times]
    return "\n".join(lines) + "\n# EOF\n"


def start_prometheus(workdir: Path, step: int) -> tuple[subprocess.Popen[bytes], str]:
    (workdir / "series.om").write_text(openmetrics(MONTH.previous().start, MONTH.end, step))
    subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", "-q", str(workdir / "series.om"),
                    str(workdir / "data")], check=True, capture_output=True, timeout=600)
    (workdir / "prometheus.yml").write_text("global:\n  scrape_interval: 1m\n")
    port = free_port()
    process = subprocess.Popen(["prometheus", f"--config.file={workdir / 'prometheus.yml'}",
                                f"--storage.tsdb.path={workdir / 'data'}", f"--web.listen-address=127.0.0.1:{port}",
                                "--storage.tsdb.retention.time=100y"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/-/ready", timeout=1):
                return process, url
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("prometheus did not start")


def queries_alone(url: str) -> None:
    prometheus = Prometheus(url)
    for month in (MONTH, MONTH.previous()):
        measure(prometheus, month, "")
        read_month(prometheus, month, None)


def best_of(rounds: int, fn: object) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--step", type=int, default=300,
                        help="seconds between samples (default 300; promtool's backfill grows with samples x "
                             "2-hour blocks, so 60 takes many minutes to set up)")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each side; the fastest counts (default 3)")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="aivitals-bench-report-"))
    process, url = start_prometheus(workdir, args.step)
    try:
        formats = "html,json,pdf" if _pdf_available() else "html,json"
        out = workdir / "out"
        argv = ["--prometheus", url, "--month", str(MONTH), "--out", str(out), "--format", formats]
        queries_alone(url)  # warm the store's caches for both sides alike
        baseline = best_of(args.rounds, lambda: queries_alone(url))
        whole = best_of(args.rounds, lambda: report(argv, now=NOW) == 0 or sys.exit("the report failed"))
        written = sorted(p.name for p in out.iterdir())
    finally:
        os.kill(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"review of {MONTH} ({formats}): {whole:.2f} s; the queries alone: {baseline:.2f} s; "
          f"{whole / baseline:.2f}x; target under {TARGET_S:.0f} s")
    print(json.dumps({"benchmark": "report", "month": str(MONTH), "formats": formats, "step_s": args.step,
                      "review_s": round(whole, 3), "queries_alone_s": round(baseline, 3),
                      "ratio": round(whole / baseline, 3), "target_s": TARGET_S, "within_target": whole < TARGET_S,
                      "files": written}))


def _pdf_available() -> bool:
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError):
        return False
    return True


if __name__ == "__main__":
    main()
