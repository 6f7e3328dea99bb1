"""The files docs/getting-started.md hands out are what their tools accept.

prometheus.yml and alertmanager.yml go through promtool and amtool (their real
checkers; the live load is in test_getting_started_live.py); the Grafana
provisioning files are checked against the fields Grafana documents (no Grafana
server runs here); compose.yaml against the Compose specification's JSON schema
as shipped by check-jsonschema; sidecar.yaml through the sidecar's own loader.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import subprocess
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from aivitals.sidecar.settings import Settings, SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
GUIDE = ROOT / "docs" / "getting-started.md"


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


# --- Prometheus --------------------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed")
def test_promtool_accepts_the_prometheus_config_with_the_generated_rules(tmp_path: Path) -> None:
    shutil.copy(EXAMPLES / "prometheus.yml", tmp_path)
    shutil.copytree(ROOT / "alerts", tmp_path / "alerts")  # where the guide says to put them
    result = subprocess.run(["promtool", "check", "config", str(tmp_path / "prometheus.yml")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 2 rule files found" in result.stdout + result.stderr


def test_the_prometheus_config_scrapes_the_sdk_and_the_sidecar_and_loads_every_generated_rule_file() -> None:
    config = _yaml(EXAMPLES / "prometheus.yml")
    jobs = {job["job_name"]: job["static_configs"][0]["targets"] for job in config["scrape_configs"]}
    assert jobs == {"aivitals-app": ["127.0.0.1:9464"], "aivitals-sidecar": ["127.0.0.1:9477"]}
    generated = sorted(f"alerts/{p.name}" for p in (ROOT / "alerts").glob("*.yaml"))
    assert sorted(config["rule_files"]) == generated
    assert config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == ["127.0.0.1:9093"]


# --- Alertmanager ------------------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("amtool") is None, reason="amtool not installed")
def test_amtool_accepts_the_alertmanager_config() -> None:
    result = subprocess.run(["amtool", "check-config", str(EXAMPLES / "alertmanager.yml")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


@pytest.mark.skipif(shutil.which("amtool") is None, reason="amtool not installed")
@pytest.mark.parametrize("severity", ["warning", "critical"])
def test_every_alert_reaches_the_sidecar_and_on_call(severity: str) -> None:
    result = subprocess.run(["amtool", "config", "routes", "test", f"--config.file={EXAMPLES / 'alertmanager.yml'}",
                             "alertname=AivitalsQualityPiiLeakageHigh", f"severity={severity}", "service=assistant"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(result.stdout.strip().split(",")) == ["aivitals-sidecar", "on-call"]


def test_the_webhook_is_the_sidecar_alertmanager_endpoint_with_resolved_notifications() -> None:
    config = _yaml(EXAMPLES / "alertmanager.yml")
    receivers = {r["name"]: r for r in config["receivers"]}
    (webhook,) = receivers["aivitals-sidecar"]["webhook_configs"]
    assert webhook == {"url": "http://127.0.0.1:9477/v1/alertmanager", "send_resolved": True}
    settings = Settings()
    assert webhook["url"] == f"http://{settings.host}:{settings.port}/v1/alertmanager"


# --- Grafana provisioning ----------------------------------------------------------------------

#: The fields Grafana documents for provisioning files
#: (https://grafana.com/docs/grafana/latest/administration/provisioning/): a key outside them is a typo
#: Grafana would ignore silently, so these schemas refuse it.
_DATASOURCE = {
    "type": "object",
    "required": ["name", "type"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string"}, "type": {"type": "string"}, "access": {"enum": ["proxy", "direct"]},
        "orgId": {"type": "integer"}, "uid": {"type": "string", "maxLength": 40}, "url": {"type": "string"},
        "user": {"type": "string"}, "database": {"type": "string"}, "basicAuth": {"type": "boolean"},
        "basicAuthUser": {"type": "string"}, "withCredentials": {"type": "boolean"},
        "isDefault": {"type": "boolean"}, "jsonData": {"type": "object"}, "secureJsonData": {"type": "object"},
        "version": {"type": "integer"}, "editable": {"type": "boolean"},
    },
}
_PROMETHEUS_JSON_DATA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "httpMethod": {"enum": ["POST", "GET"]}, "timeInterval": {"type": "string", "pattern": r"^\d+[smh]$"},
        "queryTimeout": {"type": "string"}, "manageAlerts": {"type": "boolean"},
        "prometheusType": {"enum": ["Prometheus", "Cortex", "Mimir", "Thanos"]},
        "prometheusVersion": {"type": "string"}, "cacheLevel": {"enum": ["Low", "Medium", "High", "None"]},
        "incrementalQuerying": {"type": "boolean"}, "disableRecordingRules": {"type": "boolean"},
        "customQueryParameters": {"type": "string"}, "defaultEditor": {"enum": ["code", "builder"]},
        "tlsAuth": {"type": "boolean"}, "tlsAuthWithCACert": {"type": "boolean"},
        "tlsSkipVerify": {"type": "boolean"}, "exemplarTraceIdDestinations": {"type": "array"},
    },
}
_DATASOURCES_FILE = {
    "type": "object",
    "required": ["apiVersion", "datasources"],
    "additionalProperties": False,
    "properties": {
        "apiVersion": {"const": 1}, "prune": {"type": "boolean"},
        "deleteDatasources": {"type": "array", "items": {"type": "object", "required": ["name"]}},
        "datasources": {"type": "array", "minItems": 1, "items": _DATASOURCE},
    },
}
_PROVIDERS_FILE = {
    "type": "object",
    "required": ["apiVersion", "providers"],
    "additionalProperties": False,
    "properties": {
        "apiVersion": {"const": 1},
        "providers": {"type": "array", "minItems": 1, "items": {
            "type": "object",
            "required": ["name", "type", "options"],
            "additionalProperties": False,
            "properties": {
                "name": {"type": "string"}, "orgId": {"type": "integer"}, "folder": {"type": "string"},
                "folderUid": {"type": "string"}, "type": {"const": "file"}, "disableDeletion": {"type": "boolean"},
                "updateIntervalSeconds": {"type": "integer", "minimum": 1}, "allowUiUpdates": {"type": "boolean"},
                "options": {"type": "object", "required": ["path"], "additionalProperties": False, "properties": {
                    "path": {"type": "string", "pattern": "^/"}, "foldersFromFilesStructure": {"type": "boolean"}}},
            },
        }},
    },
}


def _compose() -> dict[str, Any]:
    data: dict[str, Any] = _yaml(ROOT / "compose.yaml")
    return data


def _mounts(service: str) -> dict[str, str]:
    """Host path (relative to the repository) -> path in the container."""
    out = {}
    for volume in _compose()["services"][service]["volumes"]:
        host, container, *_ = volume.split(":")
        out[host.removeprefix("./")] = container
    return out


def test_grafana_reads_one_file_per_kind_in_the_directories_it_scans() -> None:
    """Grafana reads provisioning/<kind>/*.yaml; these are the two kinds aivitals needs."""
    assert sorted(p.name for p in (EXAMPLES / "grafana").iterdir()) == ["dashboards", "datasources"]
    jsonschema.validate(_yaml(EXAMPLES / "grafana" / "datasources" / "aivitals.yaml"), _DATASOURCES_FILE)
    jsonschema.validate(_yaml(EXAMPLES / "grafana" / "dashboards" / "aivitals.yaml"), _PROVIDERS_FILE)


def test_a_typo_in_a_provisioning_file_is_caught() -> None:
    data = _yaml(EXAMPLES / "grafana" / "datasources" / "aivitals.yaml")
    data["datasources"][0]["isdefault"] = True
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, _DATASOURCES_FILE)


def test_the_datasource_is_what_every_dashboards_datasource_variable_picks() -> None:
    (source,) = _yaml(EXAMPLES / "grafana" / "datasources" / "aivitals.yaml")["datasources"]
    jsonschema.validate(source["jsonData"], _PROMETHEUS_JSON_DATA)
    boards = sorted((ROOT / "dashboards").glob("*.json"))
    assert len(boards) == 6
    for path in boards:
        board = json.loads(path.read_text())
        (variable,) = [v for v in board["templating"]["list"] if v["name"] == "datasource"]
        # no fixed uid and no current value: Grafana selects the default data source of this type
        assert variable["type"] == "datasource" and variable["query"] == source["type"] and "current" not in variable
        uids = set(re.findall(r'"uid": "([^"]*)"', json.dumps(_datasources_in(board))))
        assert uids == {"${datasource}"}, (path.name, uids)
    assert source["isDefault"] is True and source["access"] == "proxy"
    prometheus = _yaml(EXAMPLES / "prometheus.yml")
    assert source["jsonData"]["timeInterval"] == prometheus["global"]["scrape_interval"]


def _datasources_in(node: Any) -> list[Any]:
    if isinstance(node, dict):
        found = [node["datasource"]] if isinstance(node.get("datasource"), dict) else []
        return found + [d for value in node.values() for d in _datasources_in(value)]
    if isinstance(node, list):
        return [d for value in node for d in _datasources_in(value)]
    return []


def test_the_dashboard_provider_reads_where_compose_mounts_dashboards() -> None:
    (provider,) = _yaml(EXAMPLES / "grafana" / "dashboards" / "aivitals.yaml")["providers"]
    grafana = _mounts("grafana")
    assert grafana["dashboards"] == provider["options"]["path"]
    assert grafana["examples/grafana"] == "/etc/grafana/provisioning"
    uids = [json.loads(p.read_text())["uid"] for p in (ROOT / "dashboards").glob("*.json")]
    assert len(set(uids)) == len(uids), "Grafana refuses two provisioned dashboards with one uid"
    home = _compose()["services"]["grafana"]["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert Path(home).parent.as_posix() == provider["options"]["path"]
    assert (ROOT / "dashboards" / Path(home).name).is_file()


# --- compose.yaml ------------------------------------------------------------------------------


def _compose_schema() -> dict[str, Any]:
    schema = files("check_jsonschema.builtin_schemas.vendor").joinpath("compose-spec.json").read_text()
    data: dict[str, Any] = json.loads(schema)
    return data


def test_compose_file_is_valid_against_the_compose_specification() -> None:
    schema = _compose_schema()
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(_compose())]
    assert errors == []
    broken = _compose()
    broken["services"]["prometheus"]["netwrok_mode"] = "service:demo"
    assert list(validator.iter_errors(broken)), "the schema must refuse an unknown service key"


def test_compose_runs_the_example_files_from_the_repository() -> None:
    services = _compose()["services"]
    assert set(services) == {"demo", "prometheus", "alertmanager", "grafana"}
    for name in ("prometheus", "alertmanager", "grafana"):
        assert services[name]["network_mode"] == "service:demo", "127.0.0.1 must be the demo's loopback"
        for host in _mounts(name):
            assert (ROOT / host).exists(), host
    assert _mounts("prometheus") == {"examples/prometheus.yml": "/etc/prometheus/prometheus.yml",
                                     "alerts": "/etc/prometheus/alerts"}
    assert "--config.file=/etc/prometheus/prometheus.yml" in services["prometheus"]["command"]
    assert _mounts("alertmanager") == {"examples/alertmanager.yml": "/etc/alertmanager/alertmanager.yml"}
    published = {p.split(":")[1] for p in services["demo"]["ports"]}
    assert published == {"3000", "9090", "9093"}
    (source,) = _yaml(EXAMPLES / "grafana" / "datasources" / "aivitals.yaml")["datasources"]
    assert source["url"] == "http://127.0.0.1:9090"


def test_the_demo_command_in_compose_is_one_the_cli_accepts() -> None:
    from aivitals.cli import parser

    args = parser().parse_args(_compose()["services"]["demo"]["command"])
    assert args.command == "demo" and args.plain and args.port == 9464 and args.sidecar_port == 9477


# --- sidecar.yaml ------------------------------------------------------------------------------


def test_the_sidecar_example_loads_and_sets_every_setting_with_a_comment() -> None:
    settings = load_settings(EXAMPLES / "sidecar.yaml")
    lines = (EXAMPLES / "sidecar.yaml").read_text(encoding="utf-8").splitlines()
    keys = {m.group(1): i for i, line in enumerate(lines) if (m := re.match(r"^([a-z_]+):", line))}
    assert set(keys) == {f.name for f in dataclasses.fields(Settings)}
    for key, index in keys.items():
        commented = lines[index - 1].startswith("#") or "#" in lines[index].partition(":")[2]
        assert commented, f"{key} has no comment"
    assert settings.kpis and settings.fairness and settings.outcome_kinds  # the example shows declared labels


def test_the_sidecar_example_says_the_defaults_where_it_says_so() -> None:
    """Every value not marked 'Example' in its comment is the default, so the file documents them."""
    settings = load_settings(EXAMPLES / "sidecar.yaml")
    text = (EXAMPLES / "sidecar.yaml").read_text(encoding="utf-8")
    examples = {"eligible_users", "fixed_costs_usd_per_month", "kpis", "outcome_kinds", "fairness"}
    for key in examples:
        assert re.search(rf"Example[^\n]*\n{key}:", text), key
    for field in dataclasses.fields(Settings):
        if field.name not in examples:
            assert getattr(settings, field.name) == getattr(Settings(), field.name), field.name


def test_a_null_path_setting_means_its_default_and_a_wrong_one_is_named(tmp_path: Path) -> None:
    config = tmp_path / "s.yaml"
    config.write_text("thresholds: null\nuser_key_secret_file: null\n")
    assert load_settings(config).thresholds is None
    config.write_text("store: 5\n")
    with pytest.raises(SettingsError, match="store: a file path"):
        load_settings(config)


# --- the guide ---------------------------------------------------------------------------------


def test_the_guide_links_every_file_it_hands_out() -> None:
    guide = GUIDE.read_text(encoding="utf-8")
    for path in ("examples/prometheus.yml", "examples/alertmanager.yml", "examples/grafana/datasources/aivitals.yaml",
                 "examples/grafana/dashboards/aivitals.yaml", "examples/sidecar.yaml", "compose.yaml",
                 "examples/openai_service.py", "examples/anthropic_service.py"):
        assert path in guide, path
        assert (ROOT / path).is_file(), path
    for link in re.findall(r"\]\(([^)#]+)", guide):
        if not link.startswith("http"):
            assert (GUIDE.parent / link).exists(), link
