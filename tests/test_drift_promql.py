"""The drift PromQL equals the numpy oracle, on a real Prometheus fed by the real recorder.

Two recorders (two replicas of one model) record a reference-shaped first
batch, then drifted batches; their scrapes are written as OpenMetrics with
timestamps and backfilled with ``promtool tsdb create-blocks-from openmetrics``.
Samples sit exactly at both ends of the window, so ``increase()`` needs no
extrapolation and the expressions must match numpy to 1e-9 relative. (This
relies on Prometheus 2.x's closed range selectors, as Debian ships; 3.x
excludes the left end and would extrapolate.)
"""

from __future__ import annotations

import json
import math
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.metrics_core import Metric

from aivitals.catalogue import drift as promql
from aivitals.drift.profile import CATEGORICAL, PREDICTION, Profile, build_profile
from aivitals.drift.recorder import DriftRecorder
from aivitals.stats import bin_counts, histogram_quantile, js_from_counts, ks_from_counts, psi_from_counts

pytestmark = pytest.mark.prometheus

STEP = 60
STEPS = 10
WINDOW = f"{STEP * STEPS}s"
MODEL = "churn"


def _reference(rng: np.random.Generator, n: int = 4000) -> dict[str, list[object]]:
    return {
        "age": rng.normal(40, 10, n).round(1).tolist(),
        "income": rng.lognormal(10, 1, n).tolist(),  # positive edges: the histogram has _count and _sum
        "visits": rng.integers(0, 4, n).astype(float).tolist(),  # ties: fewer, deduplicated edges
        "flag": [1.0] * n,  # constant: one edge
        "plan": rng.choice(["free", "pro", "team", "enterprise"], n, p=[0.5, 0.3, 0.15, 0.05]).tolist(),
        "score": rng.random(n).tolist(),
    }


def _batch(rng: np.random.Generator, n: int, drifted: bool) -> list[tuple[dict[str, object], float]]:
    age = rng.normal(55 if drifted else 40, 10, n).round(1)
    income = rng.lognormal(10.05, 1, n)
    visits = rng.integers(0, 4 if not drifted else 6, n).astype(float)
    flag = np.where(rng.random(n) < (0.2 if drifted else 0.0), 2.0, 1.0)
    plan = rng.choice(["free", "pro", "team", "gold"], n, p=[0.3, 0.3, 0.2, 0.2] if drifted else [0.5, 0.3, 0.15, 0.05])
    score = rng.random(n) ** (2 if drifted else 1)
    return [({"age": float(a), "income": float(i), "visits": float(v), "flag": float(f), "plan": str(p)}, float(s))
            for a, i, v, f, p, s in zip(age, income, visits, flag, plan, score, strict=True)]


def _oracle_counts(profile: Profile, rows: list[tuple[dict[str, object], float]]) -> dict[str, np.ndarray]:
    """Per-bin counts computed independently of the recorder."""
    out: dict[str, np.ndarray] = {}
    for feature in profile.features:
        values = [s if feature.name == PREDICTION else r[feature.name] for r, s in rows]
        if feature.kind == CATEGORICAL:
            index = {c: i for i, c in enumerate(feature.categories)}
            bins = [index.get(str(v), len(feature.categories)) for v in values]
            out[feature.name] = np.bincount(bins, minlength=feature.bins).astype(float)
        else:
            out[feature.name] = bin_counts(values, feature.edges)
    return out


def _openmetrics(snapshots: list[tuple[str, int, list[Metric]]]) -> str:
    """Scrapes of several replicas at several times as one OpenMetrics document, grouped as the format wants."""
    families: dict[str, tuple[str, dict[tuple[tuple[str, str], ...], list[str]]]] = {}
    for instance, ts, scrape in snapshots:
        for family in scrape:
            _, groups = families.setdefault(family.name, (family.type, {}))
            for sample in family.samples:
                labels = dict(sample.labels, instance=instance)
                key = tuple(sorted((k, v) for k, v in labels.items() if k != "le"))
                text = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
                groups.setdefault(key, []).append(f"{sample.name}{{{text}}} {sample.value!r} {ts}")
    lines: list[str] = []
    for name, (kind, groups) in families.items():
        lines.append(f"# TYPE {name} {kind}")
        for series in groups.values():
            lines.extend(series)
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Prometheus:
    def __init__(self, url: str) -> None:
        self.url = url

    def query(self, expr: str, at: float) -> dict[tuple[tuple[str, str], ...], float]:
        params = urllib.parse.urlencode({"query": expr, "time": str(at)})
        with urllib.request.urlopen(f"{self.url}/api/v1/query?{params}", timeout=30) as response:
            body = json.load(response)
        assert body["status"] == "success", body
        result = body["data"]["result"]
        if body["data"]["resultType"] == "scalar":
            return {(): float(result[1])}
        return {tuple(sorted(r["metric"].items())): float(r["value"][1]) for r in result}


@dataclass(frozen=True)
class Scenario:
    prometheus: _Prometheus
    at: int
    profile: Profile
    counts: dict[str, np.ndarray]


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    if not (shutil.which("prometheus") and shutil.which("promtool")):
        pytest.skip("prometheus and promtool are not installed")
    rng = np.random.default_rng(7)
    profile = build_profile(_reference(rng), bins=8, top_k=3, prediction_column="score")
    start = (int(time.time()) // 3600 - 4) * 3600  # hours in the past, inside the retention
    registries = {name: CollectorRegistry() for name in "ab"}
    recorders = {name: DriftRecorder(profile, MODEL, registry=registries[name]) for name in "ab"}
    snapshots: list[tuple[str, int, list[Metric]]] = []
    in_window: list[tuple[dict[str, object], float]] = []
    for step in range(STEPS + 1):
        for name, recorder in recorders.items():
            rows = _batch(rng, 150 if name == "a" else 90, drifted=step > 0)
            for features, score in rows:
                recorder.record(features, prediction=score)
            if step > 0:
                in_window.extend(rows)
            snapshots.append((name, start + step * STEP, list(registries[name].collect())))
    root = tmp_path_factory.mktemp("prometheus")
    (root / "data.om").write_text(_openmetrics(snapshots))
    subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", str(root / "data.om"),
                    str(root / "tsdb")], check=True, capture_output=True, timeout=120)
    (root / "prometheus.yml").write_text("global:\n  scrape_interval: 1h\n")
    port = _free_port()
    log = (root / "prometheus.log").open("w")
    process = subprocess.Popen(
        ["prometheus", f"--config.file={root / 'prometheus.yml'}", f"--storage.tsdb.path={root / 'tsdb'}",
         "--storage.tsdb.retention.time=10y", f"--web.listen-address=127.0.0.1:{port}"],
        stdout=log, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/-/ready", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("prometheus did not start:\n" + (root / "prometheus.log").read_text()[-2000:])
            time.sleep(0.2)
        yield Scenario(_Prometheus(url), start + STEPS * STEP, profile, _oracle_counts(profile, in_window))
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _by_feature(result: dict[tuple[tuple[str, str], ...], float]) -> dict[str, float]:
    out = {}
    for labels, value in result.items():
        d = dict(labels)
        assert d["model"] == MODEL
        out[d["feature"]] = value
    return out


def _expected(scenario: Scenario, stat: str) -> dict[str, float]:
    profile, counts = scenario.profile, scenario.counts
    out = {}
    for feature in profile.features:
        if stat == "psi":
            out[feature.name] = psi_from_counts(feature.reference, counts[feature.name])
        elif stat == "js":
            out[feature.name] = js_from_counts(feature.reference, counts[feature.name])
        elif feature.kind != CATEGORICAL:
            out[feature.name] = ks_from_counts(feature.reference, counts[feature.name])
    return out


def _assert_close(actual: dict[str, float], expected: dict[str, float]) -> None:
    assert actual.keys() == expected.keys()
    for name, value in expected.items():
        assert actual[name] == pytest.approx(value, rel=1e-9, abs=1e-12), name


@pytest.mark.parametrize("stat", ["psi", "ks", "js"])
def test_per_feature_drift_in_promql_equals_numpy(scenario: Scenario, stat: str) -> None:
    prometheus = scenario.prometheus
    expr = {"psi": promql.psi, "ks": promql.ks, "js": promql.js}[stat](WINDOW, f'model="{MODEL}"')
    actual = _by_feature(prometheus.query(expr, scenario.at))
    expected = _expected(scenario, stat)
    _assert_close(actual, expected)
    assert any(v > 0.15 for v in expected.values()) and any(v < 0.15 for v in expected.values())


def test_the_recorded_rule_chain_equals_numpy(scenario: Scenario) -> None:
    """Each rule, its recorded inputs inlined, evaluates to the oracle: the chain is the same math."""
    prometheus = scenario.prometheus
    rules = promql.recording_rules(WINDOW)
    inlined: dict[str, str] = {}
    for rule in rules:
        expr = rule["expr"]
        for name in sorted(inlined, key=len, reverse=True):
            expr = expr.replace(name, f"({inlined[name]})")
        inlined[rule["record"]] = expr
    for stat in ("psi", "ks", "js"):
        record = promql.record_name(stat, WINDOW)
        actual = _by_feature(prometheus.query(inlined[record], scenario.at))
        _assert_close(actual, _expected(scenario, stat))
    psi = {k: v for k, v in _expected(scenario, "psi").items() if k != PREDICTION}
    share = prometheus.query(inlined[f"model:aivitals_distribution_shift_share:{WINDOW}"], scenario.at)
    largest = prometheus.query(inlined[f"model:aivitals_distribution_shift_max:{WINDOW}"], scenario.at)
    assert share == {(("model", MODEL),): pytest.approx(sum(v > 0.15 for v in psi.values()) / len(psi), rel=1e-12)}
    assert largest == {(("model", MODEL),): pytest.approx(max(psi.values()), rel=1e-9)}


def test_an_empty_window_yields_no_drift_sample_rather_than_zero(scenario: Scenario) -> None:
    prometheus = scenario.prometheus
    assert prometheus.query(promql.psi(WINDOW, 'model="no-such-model"'), scenario.at) == {}


BUCKETS = [
    [(0.5, 1.0), (1.0, 3.0), (2.0, 3.0), (math.inf, 4.0)],
    [(-1.0, 2.0), (0.0, 5.0), (1.0, 9.0), (math.inf, 10.0)],
    [(1.0, 4.0), (2.0, 3.0), (4.0, 8.0), (math.inf, 8.0)],  # non-monotonic: fixed up
    [(1.0, 0.0), (math.inf, 0.0)],  # no observations: NaN
    [(0.25, 2.0), (math.inf, 7.0)],  # rank in +Inf: the second-highest bound
    [(1.0, 5.0), (3.0, 5.0)],  # no +Inf bucket: NaN
]


@pytest.mark.parametrize("buckets", BUCKETS)
@pytest.mark.parametrize("q", [0.0, 0.1, 0.5, 0.9, 0.99, 1.0, -0.5, 1.5])
def test_histogram_quantile_matches_prometheus(scenario: Scenario, buckets: list[tuple[float, float]],
                                               q: float) -> None:
    from prometheus_client.utils import floatToGoString

    prometheus = scenario.prometheus
    series = " or ".join(f'label_replace(vector({count!r}), "le", "{floatToGoString(bound)}", "", "")'
                         for bound, count in buckets)
    result = prometheus.query(f"histogram_quantile({q!r}, {series})", scenario.at)
    expected = histogram_quantile(q, buckets)
    (value,) = result.values()
    if math.isnan(expected):
        assert math.isnan(value)
    else:
        assert value == pytest.approx(expected, rel=1e-12)


def test_generated_rules_pass_promtool_check(tmp_path: Path) -> None:
    yaml = pytest.importorskip("yaml")
    if not shutil.which("promtool"):
        pytest.skip("promtool is not installed")
    path = tmp_path / "drift.rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "drift", "rules": promql.recording_rules("1d")}]}))
    result = subprocess.run(["promtool", "check", "rules", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
