"""The thresholds file is checked against the catalogue and exported as series for the alerts."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from aivitals.config import ConfigError, ThresholdCollector, load, parse


def _problems(data: object) -> str:
    with pytest.raises(ConfigError) as info:
        parse(data, "t.yaml")
    return str(info.value)


def test_an_unknown_threshold_names_the_file_the_key_and_the_closest_allowed_one() -> None:
    text = _problems({"thresholds": {"latency_p95_second": {"warning": 1}}})
    assert "t.yaml: thresholds.latency_p95_second: unknown key (did you mean 'latency_p95_seconds'?)" in text
    assert "allowed:" in text and "refusal_rate_max" in text


def test_a_ratio_above_one_and_a_negative_latency_are_refused() -> None:
    text = _problems({"thresholds": {"hallucination_rate_max": {"warning": 1.5},
                                     "latency_p95_seconds": {"critical": -2}}})
    assert "thresholds.hallucination_rate_max.warning: 1.5 is above the largest allowed value 1" in text
    assert "thresholds.latency_p95_seconds.critical: -2 is below the smallest allowed value 0" in text


def test_a_level_the_catalogue_does_not_have_is_refused() -> None:
    text = _problems({"thresholds": {"cache_hit_rate_min": {"critical": 0.1}}})
    assert "cache_hit_rate_min has no critical level; allowed: warning" in text


def test_critical_must_be_beyond_warning_in_the_direction_the_alert_fires() -> None:
    assert "critical 0.9 is not beyond warning 0.8" in _problems(
        {"thresholds": {"accuracy_floor": {"warning": 0.8, "critical": 0.9}}})
    parse({"thresholds": {"accuracy_floor": {"warning": 0.9, "critical": 0.8}}})


def test_typos_inside_entries_and_bad_labels_are_all_reported_at_once() -> None:
    text = _problems({"thresholds": {"ece_max": {"warnng": 0.1, "per": [
        {"service": "chat", "critcal": 0.2}, {"service": "bad label!", "warning": 0.1}, {"warning": 0.1}]}},
        "capcity": []})
    for expected in ("thresholds.ece_max.warnng: unknown key (did you mean 'warning'?)",
                     "per[0].critcal: unknown key (did you mean 'critical'?)",
                     "per[1]: service must be a name", "per[2]: names neither service nor model",
                     "(top level).capcity: unknown key (did you mean 'capacity'?)"):
        assert expected in text


def test_a_value_that_is_not_a_number_is_refused() -> None:
    assert "expected a number, got 'high'" in _problems({"thresholds": {"ece_max": {"warning": "high"}}})
    assert "expected a number, got True" in _problems({"thresholds": {"ece_max": {"warning": True}}})


def test_capacity_entries_need_all_three_keys_and_a_positive_rate() -> None:
    text = _problems({"capacity": [{"service": "chat", "requests_per_second": 0}]})
    assert "capacity[0]: missing model" in text and "capacity must be above 0" in text


def test_load_reads_yaml_and_json_and_names_the_file_on_a_parse_error(tmp_path: Path) -> None:
    good = tmp_path / "t.yaml"
    good.write_text("thresholds:\n  ece_max:\n    warning: 0.04\n", encoding="utf-8")
    assert load(good).thresholds[0].value == 0.04
    broken = tmp_path / "b.json"
    broken.write_text("{", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"b\.json: not valid JSON"):
        load(broken)
    bad_yaml = tmp_path / "b.yaml"
    bad_yaml.write_text("thresholds: [unclosed", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"b\.yaml: not valid YAML"):
        load(bad_yaml)
    with pytest.raises(ConfigError, match="cannot read"):
        load(tmp_path / "missing.yaml")
    assert load_empty(tmp_path).thresholds == ()


def load_empty(tmp_path: Path):  # type: ignore[no-untyped-def]
    empty = tmp_path / "empty.yaml"
    empty.write_text("", encoding="utf-8")
    return load(empty)


def test_the_collector_exports_each_configured_value_with_empty_labels_for_every() -> None:
    config = parse({
        "thresholds": {"latency_p95_seconds": {"warning": 2.0, "per": [
            {"service": "chat", "model": "gpt-4o", "critical": 4.0}, {"model": "mini", "warning": 1.0}]}},
        "capacity": [{"service": "chat", "model": "gpt-4o", "requests_per_second": 50}],
    })
    registry = CollectorRegistry()
    registry.register(ThresholdCollector(config))
    get = registry.get_sample_value
    assert get("aivitals_threshold", {"threshold": "latency_p95_seconds", "level": "warning", "service": "",
                                      "model": ""}) == 2.0
    assert get("aivitals_threshold", {"threshold": "latency_p95_seconds", "level": "critical", "service": "chat",
                                      "model": "gpt-4o"}) == 4.0
    assert get("aivitals_threshold", {"threshold": "latency_p95_seconds", "level": "warning", "service": "",
                                      "model": "mini"}) == 1.0
    assert get("aivitals_capacity_requests_per_second", {"service": "chat", "model": "gpt-4o"}) == 50.0
    assert get("aivitals_threshold", {"threshold": "latency_p95_seconds", "level": "critical", "service": "",
                                      "model": ""}) is None


def test_the_same_level_set_twice_for_the_same_target_is_refused() -> None:
    text = _problems({"thresholds": {"ece_max": {"per": [{"model": "a", "warning": 0.1},
                                                          {"model": "a", "warning": 0.2}]}}})
    assert "warning is set twice" in text


def test_a_per_entry_naming_a_label_the_vital_does_not_carry_is_refused() -> None:
    text = _problems({"thresholds": {"kpi_delta_min": {"per": [{"service": "chat", "warning": 0.01}]},
                                     "accuracy_floor": {"per": [{"service": "chat", "model": "m", "warning": 0.9}]}}})
    assert "kpi_delta_min.per[0].service: kpi_delta_min is not measured per service" in text
    assert "allowed: none: set it globally" in text
    assert "accuracy_floor.per[0].service: accuracy_floor is not measured per service" in text
    assert "allowed: model" in text


def test_the_example_thresholds_file_is_valid() -> None:
    config = load(Path(__file__).resolve().parents[1] / "examples" / "thresholds.yaml")
    assert {(v.key, v.service, v.model) for v in config.thresholds} >= {
        ("latency_p95_seconds", "", ""), ("latency_p95_seconds", "chat", ""), ("accuracy_floor", "", "fraud-v3")}
    assert config.capacity[0].requests_per_second == 50
