"""The generated rule files, evaluated on central stores: every recording rule gives the scenario's value.

Two Prometheus agents (external labels cluster="a" and cluster="b") scrape one
half of the rule scenario's world each (``global_view_world.py``) and
remote-write to a central Prometheus (remote-write receiver on, the generated
rules loaded) and to a single-node VictoriaMetrics evaluated by vmalert with
the same rule files. Every recording rule must give, on the central
Prometheus, the value the scenario works out by hand for ONE world: the rules
aggregate the clusters away, so two sources sending halves answer as one
would. VictoriaMetrics must give Prometheus's value for every rule, or the
rule is a known difference named below with its reason.

Rules look back up to 30 days; an agent forwards only samples newer than its
own start, so each store gets the grid's past backfilled (promtool's
create-blocks-from openmetrics, VictoriaMetrics' import API) and the live
tail, with the external labels, through the agents. Two rounds, as the
promtool tests: minutes-to-hours windows on a 30s grid (6h20m of history),
day-to-month windows on a 6h grid (31 days). The rule files are the
committed ones with the groups' ``interval`` keys dropped, so the long groups
are evaluated every second rather than every 5 minutes (the test asserts the
rules themselves are unchanged).
"""

from __future__ import annotations

import json
import math
import shutil
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from aivitals.catalogue.promql import Recording, catalogue_recordings, longest_range, seconds
from aivitals.codegen.promserver import PrometheusHandle, free_port
from aivitals.codegen.rules.scenario import expectation_for
from central_stores import (
    Notifier,
    every_group_at_the_global_interval,
    start_agent,
    start_central_prometheus,
    start_victoria_metrics,
    start_vmalert,
    vm_import,
)
from global_view_world import CLUSTERS, JOB, Grid, LiveExporter, history_openmetrics, history_text, series_count

pytestmark = [
    pytest.mark.prometheus, pytest.mark.slow,
    pytest.mark.skipif(not all(shutil.which(b) for b in ("prometheus", "promtool", "victoria-metrics", "vmalert")),
                       reason="needs Debian's prometheus and victoria-metrics (scripts/test.sh installs them)"),
]

ROOT = Path(__file__).resolve().parents[1]
RULE_FILES = [ROOT / "alerts" / "aivitals-recording.yaml", ROOT / "alerts" / "aivitals-alerts.yaml"]
SCENARIO_LABELS = {"service": "chat", "model": "m1"}


@dataclass(frozen=True)
class Round:
    step: int
    history_s: int
    long: bool


ROUNDS = {
    "minutes-to-hours": Round(step=30, history_s=6 * 3600 + 1200, long=False),
    "days-to-month": Round(step=6 * 3600, history_s=31 * 86400, long=True),
}
#: Seconds from the agents' start to the first live grid point they forward.
LEAD_S = 8
#: The fixture polls (returning as soon as every store agrees) for at most this long. Records over a
#: subquery of another record (``rate1m_p99_1d`` over ``rate1m[1d:1m]``) get their first point only at the
#: first whole minute after the inner record's first evaluation, so a slow, shared CI machine needs minutes.
WAIT_S = 300.0
#: Records whose value is a count of stored series, so it grows with the sources: not one world's figure.
PER_SOURCE = {"job:aivitals_series:count": "counts the series stored; each cluster's series are its own"}
#: Records whose value differs between VictoriaMetrics (vmalert) and Prometheus on the same data, and why.
#: The test fails if one of these starts agreeing, or another differs.
KNOWN_DIFFERENCES: dict[str, str] = {}

Values = dict[tuple[tuple[str, str], ...], float]


def round_records(long: bool) -> list[Recording]:
    """The catalogue's records checked in a round: as the promtool tests split them."""
    recordings = catalogue_recordings()
    by_name = {r.record: r for r in recordings}
    return [r for r in recordings if (longest_range(r, by_name, subqueries=False) > 6 * 3600) == long]


def file_records() -> set[str]:
    return {rule["record"] for path in RULE_FILES
            for group in yaml.safe_load(path.read_text())["groups"] for rule in group["rules"] if "record" in rule}


def known_in(plan: Round) -> set[str]:
    """The known differences among the records a round compares."""
    compared = {r.record for r in round_records(plan.long)} | (set() if plan.long else file_records())
    return set(KNOWN_DIFFERENCES) & compared


def expected(rec: Recording, at: float) -> Values:
    if rec.record in PER_SOURCE:
        return {(("job", JOB),): float(series_count())}
    window = float(seconds(rec.window)) if rec.window else 0.0
    return expectation_for(rec.source.record)(window, at, dict(SCENARIO_LABELS))


def values(store: PrometheusHandle, expr: str) -> Values:
    """The instant vector ``expr``, keyed by its labels (the name dropped)."""
    return {tuple(sorted((k, v) for k, v in item["metric"].items() if k != "__name__")): float(item["value"][1])
            for item in store.query(expr)}


def fresh(store: PrometheusHandle, name: str, since: float) -> tuple[Values, float]:
    """A recorded series' values and when they were evaluated; none if that was before ``since``."""
    at = sample_time(store, name)
    return (values(store, name), at) if at >= since else ({}, at)


def sample_time(store: PrometheusHandle, name: str) -> float:
    """When the newest sample of a recorded series was evaluated (an instant query answers with its own time)."""
    return store.scalar(f"max(timestamp({name}))") or 0.0


def same(a: Values, b: Values) -> bool:
    return a.keys() == b.keys() and all(math.isclose(a[k], b[k], rel_tol=1e-9, abs_tol=1e-12) for k in a)


@dataclass
class Stores:
    round: Round
    prometheus: PrometheusHandle
    victoria: PrometheusHandle
    vmalert: PrometheusHandle
    rule_files: list[Path]
    live_since: float

    def rules(self, handle: PrometheusHandle) -> list[dict[str, Any]]:
        with urllib.request.urlopen(f"{handle.url}/api/v1/rules", timeout=30) as response:
            groups = json.load(response)["data"]["groups"]
        return [rule for group in groups for rule in group["rules"]]

    def central_mismatches(self) -> dict[str, tuple[Values, Values]]:
        wrong = {}
        for rec in round_records(self.round.long):
            have, at = fresh(self.prometheus, rec.record, self.live_since)
            want = expected(rec, at)
            if not same(have, want):
                wrong[rec.record] = (have, want)
        return wrong

    def differences(self) -> dict[str, tuple[Values, Values]]:
        """Records whose VictoriaMetrics value is not Prometheus's (the time-dependent one against the scenario)."""
        names = {r.record for r in round_records(self.round.long)}
        if not self.round.long:
            names |= file_records() - {r.record for r in catalogue_recordings()}
        by_name = {r.record: r for r in catalogue_recordings()}
        out = {}
        for name in sorted(names):
            have, at = fresh(self.victoria, name, self.live_since)
            if name in by_name and "time()" in by_name[name].expr:
                want = expected(by_name[name], at)
            else:
                want, _ = fresh(self.prometheus, name, self.live_since)
            if not same(have, want):
                out[name] = (have, want)
        return out


def _live_arrived(store: PrometheusHandle, grid: Grid) -> bool:
    first_live = grid.at(grid.live)
    got = values(store, 'max by (cluster) (timestamp(aivitals_requests_total{outcome="ok"}))')
    return len(got) == len(CLUSTERS) and all(v >= first_live for v in got.values())


def _poll(condition: Any, deadline: float) -> None:
    while time.monotonic() < deadline and not condition():
        time.sleep(1)


@pytest.fixture(scope="module", params=list(ROUNDS))
def stores(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stores]:
    plan = ROUNDS[request.param]
    rules = every_group_at_the_global_interval(RULE_FILES, tmp_path_factory.mktemp("rules"))
    exporters = {c: LiveExporter(c) for c in CLUSTERS}
    central_port, vm_port = free_port(), free_port()
    writes = [f"http://127.0.0.1:{central_port}/api/v1/write", f"http://127.0.0.1:{vm_port}/api/v1/write"]
    started: list[PrometheusHandle] = []
    notifier = Notifier()
    try:
        for cluster, exporter in exporters.items():
            started.append(start_agent([exporter.target], writes, {"cluster": cluster}, scrape_interval="1s"))
        grid = Grid.live_after(time.time(), plan.history_s, plan.step, LEAD_S)
        targets = {c: e.target for c, e in exporters.items()}
        for exporter in exporters.values():
            exporter.grid = grid
        prometheus = start_central_prometheus(rules, history_openmetrics(targets, grid), port=central_port)
        started.append(prometheus)
        victoria = start_victoria_metrics(vm_port)
        started.append(victoria)
        vm_import(victoria, history_text(targets, grid))
        vmalert = start_vmalert(rules, victoria.url, notifier.url)
        started.append(vmalert)
        deadline = time.monotonic() + WAIT_S
        _poll(lambda: _live_arrived(prometheus, grid) and _live_arrived(victoria, grid), deadline)
        state = Stores(plan, prometheus, victoria, vmalert, rules, time.time())
        _poll(lambda: not state.central_mismatches(), deadline)
        _poll(lambda: set(state.differences()) == known_in(plan), deadline)
        yield state
    finally:
        for handle in reversed(started):
            handle.stop()
        for exporter in exporters.values():
            exporter.stop()
        notifier.stop()


def test_the_agents_forward_the_live_points_with_their_external_labels(stores: Stores) -> None:
    for store in (stores.prometheus, stores.victoria):
        clusters = values(store, 'count by (cluster) (aivitals_requests_total{outcome="ok"})')
        assert clusters == {(("cluster", c),): 1.0 for c in CLUSTERS}, stores.prometheus.log_tail()


def test_the_stores_load_the_committed_rules_unchanged_and_evaluate_each_without_error(stores: Stores) -> None:
    def rules(paths: list[Path]) -> list[dict[str, Any]]:
        return [rule for path in paths for group in yaml.safe_load(path.read_text())["groups"]
                for rule in group["rules"]]

    assert rules(stores.rule_files) == rules(RULE_FILES)
    names = sorted(r.get("record") or r["alert"] for r in rules(RULE_FILES))
    for handle in (stores.prometheus, stores.vmalert):
        loaded = stores.rules(handle)
        assert sorted(r["name"] for r in loaded) == names
        broken = {r["name"]: r.get("lastError") for r in loaded if r["health"] != "ok"}
        assert not broken, (handle.url, broken, handle.log_tail())


def test_every_recording_rule_on_the_central_prometheus_gives_the_one_world_value(stores: Stores) -> None:
    """Two clusters sending halves: the rules aggregate the cluster label away and answer as one world."""
    records = round_records(stores.round.long)
    assert len(records) > (15 if stores.round.long else 40)
    wrong = stores.central_mismatches()
    assert not wrong, "\n".join(f"{name}: got {have}, want {want}" for name, (have, want) in wrong.items())


def test_every_recording_rule_on_victoria_metrics_agrees_with_prometheus_or_is_a_known_difference(
        stores: Stores) -> None:
    differences = stores.differences()
    assert set(differences) == known_in(stores.round), "\n".join(
        f"{name}: victoria-metrics {have}, prometheus {want}" for name, (have, want) in differences.items())
