"""The drift PromQL's names, windows and constants (the numbers themselves are proven in test_drift_promql.py)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from aivitals.catalogue import VITALS_BY_ID
from aivitals.catalogue import drift as promql
from aivitals.stats import PSI_EPSILON


def test_record_names_follow_level_metric_window() -> None:
    assert promql.record_name("psi") == "model_feature:aivitals_feature_psi:1d"
    assert promql.record_name("ks", "6h") == "model_feature:aivitals_feature_ks:6h"
    records = [r["record"] for r in promql.recording_rules("1d")]
    assert records[-2:] == ["model:aivitals_distribution_shift_share:1d", "model:aivitals_distribution_shift_max:1d"]
    # the catalogue's drift vitals read the PSI rule by this name
    assert promql.record_name("psi") in VITALS_BY_ID["feature_drift"].query


def test_rules_only_read_rules_recorded_before_them() -> None:
    seen: set[str] = set()
    for rule in promql.recording_rules("1h"):
        for name in seen:
            assert rule["record"] != name
        used = set(re.findall(r"[a-z_]+:[a-z_]+:[a-z0-9]+", rule["expr"]))
        assert used <= seen, rule["record"]
        seen.add(rule["record"])


def test_psi_uses_the_same_epsilon_as_numpy_and_the_catalogue_threshold() -> None:
    assert "clamp_min(" in promql.psi() and repr(PSI_EPSILON) in promql.psi()
    assert VITALS_BY_ID["feature_drift"].thresholds[0].warning == promql.DEFAULT_THRESHOLD
    assert "> bool 0.15" in promql.shift_share("x")


def test_selectors_reach_every_raw_series() -> None:
    for expr in (promql.psi("1d", 'model="m"'), promql.js("1d", 'model="m"'), promql.ks("1d", 'model="m"')):
        assert expr.count("{") == expr.count('{model="m"')
    assert '{model="m", le="+Inf"}' in promql.ks("1d", 'model="m"')


@pytest.mark.parametrize("window", ["1 d", "1x", "", "d", "5m;drop"])
def test_a_bad_window_is_refused(window: str) -> None:
    with pytest.raises(ValueError, match="Prometheus duration"):
        promql.psi(window)


def test_importing_aivitals_does_not_import_numpy() -> None:
    code = "import sys, aivitals, aivitals.catalogue; assert 'numpy' not in sys.modules, 'numpy imported'"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                            env={"PYTHONPATH": "src"})
    assert result.returncode == 0, result.stderr
