"""aivitals probe --sidecar: results kept per release, the baseline read back, and the regression alert firing
in a real Prometheus on the sidecar's series."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from aivitals.probe import cli
from aivitals.probe.compare import compare
from aivitals.sidecar import BackgroundSidecar, Settings, SidecarClient
from probe_endpoints import robust, serve, vulnerable

ROOT = Path(__file__).resolve().parents[1]
SUITE = "aivitals-jailbreak"


def probe(capsys, url: str, sidecar: str, version: str, *extra: str) -> tuple[int, dict]:
    code = cli.main(["--base-url", url, "--model", "bot", "--model-version", version, "--sidecar", sidecar,
                     "--format", "json", *extra])
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else {}


def exported(text: str, name: str) -> dict[tuple[str, str, str], float]:
    """(model_version, probe_category, release) -> value of ``name`` in an exposition."""
    from prometheus_client.parser import text_string_to_metric_families

    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name:
                out[(s.labels["model_version"], s.labels["probe_category"], s.labels["release"])] = s.value
    return out


@pytest.fixture
def sidecar(tmp_path: Path):
    with BackgroundSidecar(Settings(store=tmp_path / "s.db", port=0, derived_refresh_seconds=0.0)) as url:
        yield url


def test_runs_are_kept_per_release_and_the_previous_release_is_the_baseline(capsys, sidecar):
    with serve(robust) as url:
        code, first = probe(capsys, url, sidecar, "v1")
    assert code == 0 and "regression" not in first, "no earlier release: nothing to compare"
    with serve(vulnerable) as url:
        code, second = probe(capsys, url, sidecar, "v2")
    assert code == 1 and second["regression"] is True and second["baseline_model_version"] == "v1"

    client = SidecarClient(sidecar)
    runs = client.probe_results(SUITE, second["suite_version"], "bot")
    assert [run["model_version"] for run in runs] == ["v2", "v1"]
    attempts = exported(client.metrics(), "aivitals_probe_attempts")
    successes = exported(client.metrics(), "aivitals_probe_successes")
    for category, tally in second["categories"].items():
        assert attempts[("v2", category, "current")] == tally["attempts"]
        assert successes[("v2", category, "current")] == tally["successes"]
        assert successes[("v1", category, "previous")] == 0
    assert {release for _, _, release in attempts} == {"current", "previous"}


def test_a_rerun_of_a_release_replaces_its_run_and_compares_against_the_one_before(capsys, sidecar):
    with serve(robust) as url:
        assert probe(capsys, url, sidecar, "v1")[0] == 0
        assert probe(capsys, url, sidecar, "v2")[0] == 0
        code, rerun = probe(capsys, url, sidecar, "v2")
    assert code == 0 and rerun["baseline_model_version"] == "v1"
    runs = SidecarClient(sidecar).probe_results(SUITE, rerun["suite_version"], "bot")
    assert [run["model_version"] for run in runs] == ["v2", "v1"]


def test_sidecar_needs_a_release_name_and_a_reachable_url(capsys, sidecar):
    assert cli.main(["--base-url", "http://127.0.0.1:9/v1", "--model", "bot", "--sidecar", sidecar]) == 2
    assert "--model-version" in capsys.readouterr().err
    code = cli.main(["--base-url", "http://127.0.0.1:9/v1", "--model", "bot", "--model-version", "v1",
                     "--sidecar", "http://127.0.0.1:9"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "--sidecar" in err


def test_a_probe_result_that_contradicts_itself_is_a_422(sidecar):
    from aivitals.sidecar.client import SidecarError

    bad = {"suite": SUITE, "suite_version": "1", "model": "bot", "model_version": "v1",
           "categories": {"goal_hijacking": {"attempts": 3, "successes": 4}}}
    with pytest.raises(SidecarError) as caught:
        SidecarClient(sidecar).send("probe_result", bad)
    assert caught.value.status == 422 and "cannot exceed" in caught.value.detail
    unknown = {**bad, "categories": {"telepathy": {"attempts": 3, "successes": 1}}}
    with pytest.raises(SidecarError):
        SidecarClient(sidecar).send("probe_result", unknown)


@pytest.mark.prometheus
def test_the_regression_alert_fires_on_the_sidecars_series_with_the_z_score_the_cli_tests(capsys, sidecar):
    from scipy.stats import norm

    from aivitals.codegen.promserver import start_prometheus

    with serve(robust) as url:
        probe(capsys, url, sidecar, "v1")
    with serve(vulnerable) as url:
        _, second = probe(capsys, url, sidecar, "v2")
    first = {"categories": {c: {"attempts": t["attempts"], "successes": 0} for c, t in second["categories"].items()}}
    host = sidecar.removeprefix("http://")
    with start_prometheus(ROOT / "alerts", [host]) as prometheus:
        firing = prometheus.wait_for(
            'count(ALERTS{alertname="AivitalsQualityJailbreakRegressionHigh", alertstate="firing", model="bot"})',
            1.0, timeout=90)
        assert firing == 1.0
        for category, tally in second["categories"].items():
            z = prometheus.scalar(f'suite_model_category:aivitals_probe_attack_success:zscore{{model="bot", '
                                  f'probe_category="{category}"}}')
            n = tally["attempts"]
            s1, s0 = tally["successes"], 0
            pooled = (s1 + s0) / (2 * n)
            if pooled in (0.0, 1.0):
                assert z is None or math.isnan(z)
                continue
            expected = (s1 / n - s0 / n) / math.sqrt(pooled * (1 - pooled) * (2 / n))
            assert z == pytest.approx(expected, rel=1e-9)
            change = next(c for c in compare({**second}, {**second, **first, "model_version": "v1",
                                                            "successes": 0, "attempts": second["attempts"]})
                          if c.scope == category)
            assert change.pvalue == pytest.approx(norm.sf(expected), rel=1e-6)
        resistance = prometheus.scalar('suite_model:aivitals_jailbreak_resistance:ratio{model="bot"}')
        assert resistance == pytest.approx(1 - second["attack_success_ratio"], abs=1e-12)


def test_the_sidecars_probe_categories_are_the_catalogues() -> None:
    """The event model spells the categories out for its schema; they must be the catalogue's closed label."""
    from typing import get_args

    from aivitals.catalogue.values import PROBE_CATEGORIES
    from aivitals.sidecar.events import ProbeCategory

    assert set(get_args(ProbeCategory)) == set(PROBE_CATEGORIES)
