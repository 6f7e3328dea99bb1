"""How much the generated rules cost a real Prometheus, and how many series they add per model.

Loads the generated rules plus a one-rule baseline group into Prometheus,
scrapes the scenario exporter with MODELS models, and reads
``prometheus_rule_group_last_duration_seconds``. Prints the total rule
evaluation time as a ratio of the baseline group's, measured in the same run;
the last line is one JSON object.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from aivitals.codegen.build import render_all, write
from aivitals.codegen.promserver import start_prometheus
from aivitals.codegen.rules.recording import LONG_INTERVAL
from exporter import Exporter

MODELS = ("m1", "m2", "m3", "m4")
SAMPLES = 10
BASELINE = ("groups:\n- name: baseline\n  rules:\n  - record: service_model:baseline_requests:rate5m\n"
            "    expr: sum by (namespace, service, model) (rate(aivitals_requests_total[5m]))\n")


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as response:
        return str(response.read().decode())


def _query(base: str, expr: str) -> list[dict[str, object]]:
    answer = json.loads(_get(f"{base}/api/v1/query?{urllib.parse.urlencode({'query': expr})}"))
    result: list[dict[str, object]] = answer["data"]["result"]
    return result


def _durations(base: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for line in _get(f"{base}/metrics").splitlines():
        if line.startswith("prometheus_rule_group_last_duration_seconds{"):
            group = line.split('rule_group="')[1].split('"')[0].split(";")[-1]
            out[group] = float(line.rsplit(" ", 1)[1])
    return out


def main() -> None:
    out = Path(tempfile.mkdtemp(prefix="aivitals-bench-"))
    write(render_all(), out)
    (out / "alerts" / "baseline.yaml").write_text(BASELINE, encoding="utf-8")
    exporter = Exporter(models=MODELS)
    try:
        with start_prometheus(out / "alerts", [exporter.target], same_interval_for_all_groups=True) as prometheus:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not _query(prometheus.url, "service_model:aivitals_requests:rate5m"):
                time.sleep(0.5)
            totals, baselines, longs = [], [], []
            for _ in range(SAMPLES):
                time.sleep(1.0)
                groups = _durations(prometheus.url)
                baselines.append(groups.pop("baseline"))
                totals.append(sum(groups.values()))
                longs.append(sum(v for k, v in groups.items() if k.endswith("-long")))
            per_model = {str(r["metric"].get("model", "")): int(float(r["value"][1]))  # type: ignore[index,union-attr]
                         for r in _query(prometheus.url, 'count by (model) ({__name__=~".+:aivitals_.+"})')}
            recorded = int(float(_query(prometheus.url, 'count({__name__=~".+:aivitals_.+"})')[0]["value"][1]))  # type: ignore[index]
    finally:
        exporter.stop()
    total, base = statistics.median(totals), statistics.median(baselines)
    long_share = statistics.median(longs) / total
    print(f"rule evaluation, all aivitals groups: {total * 1000:.2f} ms per cycle (median of {SAMPLES}); "
          f"the groups of long lookbacks run every {LONG_INTERVAL} in production, so they cost "
          f"{long_share:.0%} of that per 5 minutes and not per minute")
    print(f"baseline group (one rate rule): {base * 1000:.3f} ms; ratio {total / base:.1f}x")
    print(f"recorded series: {recorded} for {len(MODELS)} models; per model label: {per_model}")
    print(json.dumps({"benchmark": "rules_eval", "rule_eval_seconds": round(total, 6),
                      "baseline_seconds": round(base, 6), "ratio_vs_baseline": round(total / base, 1),
                      "long_groups_share": round(long_share, 3), "models": len(MODELS), "recorded_series": recorded,
                      "recorded_series_per_model": per_model}, sort_keys=True))


if __name__ == "__main__":
    main()
