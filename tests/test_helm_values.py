"""Bad values fail the install with a message that names the key to fix."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import helm_python as helm
import jsonschema
import kubernetes_validate
import pytest
import yaml

from helm_support import (
    CHART,
    NAMESPACE,
    one,
    render,
    scenarios,
    validate_core,
    validate_crd,
)


def failure(chart: helm.Chart, values: dict[str, Any]) -> str:
    with pytest.raises((helm.HelmValuesError, helm.HelmRenderError)) as caught:
        render(chart, values)
    return str(caught.value)


@pytest.mark.parametrize(("values", "names"), [
    ({"persistance": {"enabled": False}}, ["persistance"]),
    ({"persistence": {"storageclass": "fast"}}, ["/persistence", "storageclass"]),
    ({"podMonitor": {"enabled": True, "selector": {"matchLabel": {"app": "x"}}}}, ["/podMonitor/selector",
                                                                                    "matchLabel"]),
    ({"thresholds": {"latency_p95": {"warning": 1}}}, ["/thresholds", "latency_p95"]),
    ({"thresholds": {"latency_p95_seconds": {"warn": 1}}}, ["/thresholds/latency_p95_seconds", "warn"]),
    ({"capacity": [{"service": "chat", "model": "m", "rps": 3}]}, ["/capacity/0", "rps"]),
], ids=["top-level", "nested", "deep", "threshold-key", "threshold-level", "capacity"])
def test_an_unknown_key_is_rejected_and_named(chart: helm.Chart, values: dict[str, Any], names: list[str]) -> None:
    message = failure(chart, values)
    assert "additional properties" in message
    for name in names:
        assert name in message, message


@pytest.mark.parametrize(("values", "where"), [
    ({"replicas": "one"}, "/replicas"),
    ({"service": {"port": "8000"}}, "/service/port"),
    ({"persistence": {"enabled": "yes"}}, "/persistence/enabled"),
    ({"thresholds": {"latency_p95_seconds": {"warning": "fast"}}}, "/thresholds/latency_p95_seconds/warning"),
    ({"podMonitor": {"namespaceSelector": {"matchNames": "chat"}}}, "/podMonitor/namespaceSelector/matchNames"),
], ids=["replicas", "port", "bool", "threshold", "list"])
def test_a_wrong_type_is_rejected_and_named(chart: helm.Chart, values: dict[str, Any], where: str) -> None:
    message = failure(chart, values)
    assert where in message and "want" in message, message


@pytest.mark.parametrize(("values", "where"), [
    ({"thresholds": {"accuracy_floor": {"warning": 1.5}}}, "/thresholds/accuracy_floor/warning"),
    ({"service": {"port": 0}}, "/service/port"),
    ({"image": {"pullPolicy": "Sometimes"}}, "/image/pullPolicy"),
    ({"serviceMonitor": {"interval": "30 seconds"}}, "/serviceMonitor/interval"),
    ({"image": {"digest": "latest"}}, "/image/digest"),
    ({"config": {"token": "in-a-configmap"}}, "/config"),
], ids=["threshold-range", "port-range", "enum", "duration", "digest", "token-in-config"])
def test_a_value_outside_what_is_allowed_is_rejected_and_named(chart: helm.Chart, values: dict[str, Any],
                                                                where: str) -> None:
    assert where in failure(chart, values)


def test_a_token_both_inline_and_from_a_secret_is_rejected(chart: helm.Chart) -> None:
    message = failure(chart, {"apiToken": {"value": "0123456789abcdef", "existingSecret": {"name": "tok"}}})
    assert "apiToken.value" in message and "apiToken.existingSecret.name" in message


def test_a_short_inline_token_is_rejected(chart: helm.Chart) -> None:
    assert "apiToken.value" in failure(chart, {"apiToken": {"value": "short"}})


def test_a_hashing_key_both_inline_and_from_a_secret_or_too_short_is_rejected(chart: helm.Chart) -> None:
    both = failure(chart, {"hashingKey": {"value": "0123456789abcdef", "existingSecret": {"name": "k"}}})
    assert "hashingKey.value" in both and "hashingKey.existingSecret.name" in both
    assert "hashingKey.value" in failure(chart, {"hashingKey": {"value": "short"}})


def test_persistence_that_requires_a_storage_class_fails_without_one(chart: helm.Chart) -> None:
    message = failure(chart, {"persistence": {"requireStorageClass": True}})
    assert "persistence.storageClass" in message
    render(chart, {"persistence": {"requireStorageClass": True, "enabled": False}})


@pytest.mark.parametrize("replicas", [2, 3])
def test_more_than_one_replica_on_sqlite_is_rejected(chart: helm.Chart, replicas: int) -> None:
    message = failure(chart, {"replicas": replicas})  # the schema names the key to change and its only value
    assert "/store/type" in message and "postgres" in message


def test_zero_replicas_scale_the_sidecar_down(chart: helm.Chart) -> None:
    assert one(render(chart, {"replicas": 0}), "StatefulSet")["spec"]["replicas"] == 0


def test_a_postgres_store_without_the_secret_of_its_url_is_rejected(chart: helm.Chart) -> None:
    assert "store" in failure(chart, {"store": {"type": "postgres"}, "replicas": 2})


def test_a_podmonitor_with_an_empty_selector_is_rejected(chart: helm.Chart) -> None:
    assert "podMonitor.selector.matchLabels" in failure(chart, {"podMonitor": {"enabled": True}})


def test_lint_reports_a_typo_as_an_error(chart_path: Path) -> None:
    report = helm.lint(chart_path, {"persistance": {"enabled": False}}, strict=True, namespace=NAMESPACE)
    assert any("persistance" in e for e in report["errors"])


# --- the checks themselves can fail -------------------------------------------------------------

def test_the_crd_check_rejects_an_unknown_field_in_a_servicemonitor(chart: helm.Chart) -> None:
    monitor = copy.deepcopy(one(render(chart), "ServiceMonitor"))
    monitor["spec"]["endpoints"][0]["intervall"] = "30s"
    with pytest.raises(jsonschema.ValidationError, match="intervall"):
        validate_crd(monitor)


def test_the_crd_check_rejects_a_rule_without_an_expression(chart: helm.Chart) -> None:
    rule = copy.deepcopy(one(render(chart), "PrometheusRule"))
    del rule["spec"]["groups"][0]["rules"][0]["expr"]
    with pytest.raises(jsonschema.ValidationError, match="expr"):
        validate_crd(rule)


def test_the_kubernetes_check_rejects_an_unknown_field_in_the_pod(chart: helm.Chart) -> None:
    sts = copy.deepcopy(one(render(chart), "StatefulSet"))
    sts["spec"]["template"]["spec"]["containers"][0]["securityContxt"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        validate_core(sts)


# --- the schema itself -----------------------------------------------------------------------------

#: Objects whose content Kubernetes or the sidecar checks instead of the chart.
FREE_FORM = {"/properties/config", "/$defs/kubernetesObject"}


def open_objects(node: Any, where: str = "") -> Iterator[str]:
    if isinstance(node, dict):
        if node.get("type") == "object" and where not in FREE_FORM and "additionalProperties" not in node:
            yield where
        for key, child in node.items():
            yield from open_objects(child, f"{where}/{key}")
    elif isinstance(node, list):
        for i, child in enumerate(node):
            yield from open_objects(child, f"{where}/{i}")


def test_every_object_in_the_schema_rejects_unknown_keys() -> None:
    schema = json.loads((CHART / "values.schema.json").read_text())
    assert list(open_objects(schema)) == []
    assert schema["additionalProperties"] is False


def test_the_schema_is_plain_draft_07_that_any_helm_accepts_and_the_defaults_and_scenarios_meet() -> None:
    schema = json.loads((CHART / "values.schema.json").read_text())
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    jsonschema.Draft7Validator.check_schema(schema)
    validator = jsonschema.Draft7Validator(schema)
    validator.validate(yaml.safe_load((CHART / "values.yaml").read_text()))
    for values in scenarios().values():
        validator.validate(values)
