"""The Helm chart renders objects that Kubernetes, the Prometheus operator and promtool accept."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import helm_python as helm
import pytest
import yaml

from aivitals.catalogue import LABELS
from helm_support import (
    DASHBOARDS_SOURCE,
    NAMESPACE,
    RULES_SOURCE,
    chart_copy,
    notes,
    of_kind,
    one,
    render,
    scenarios,
    validate_all,
)

SCENARIOS = scenarios()
ALL_VALUES = {"defaults": {}, **SCENARIOS}
CORE_KINDS = {"ConfigMap", "Service", "ServiceAccount", "StatefulSet", "PodDisruptionBudget"}


def container(docs: list[dict[str, Any]]) -> dict[str, Any]:
    workload = next(d for d in docs if d["kind"] in ("StatefulSet", "Deployment"))
    [sidecar] = workload["spec"]["template"]["spec"]["containers"]
    return dict(sidecar)


def pod_spec(docs: list[dict[str, Any]]) -> dict[str, Any]:
    workload = next(d for d in docs if d["kind"] in ("StatefulSet", "Deployment"))
    return dict(workload["spec"]["template"]["spec"])


def test_the_ci_scenarios_cover_what_operators_switch(chart: helm.Chart) -> None:
    assert {"existing-secret-values.yaml", "podmonitor-values.yaml", "networkpolicy-values.yaml",
            "no-persistence-values.yaml"} <= set(SCENARIOS)


@pytest.mark.parametrize("scenario", sorted(ALL_VALUES))
def test_strict_lint_finds_nothing_to_warn_about(chart_path: Path, scenario: str) -> None:
    report = helm.lint(chart_path, ALL_VALUES[scenario], strict=True, namespace=NAMESPACE, kube_version="v1.35.0")
    serious = [m for m in report["messages"] if m["severity"] >= 2]
    assert serious == [] and report["errors"] == []


@pytest.mark.parametrize("scenario", sorted(ALL_VALUES))
def test_every_rendered_object_passes_its_kubernetes_or_crd_schema(chart: helm.Chart, scenario: str) -> None:
    docs = render(chart, ALL_VALUES[scenario])
    kinds = validate_all(docs)
    assert kinds, "nothing rendered"
    assert all(d["metadata"]["namespace"] == NAMESPACE for d in docs if d["kind"] != "ConfigMap"
               or "grafana_dashboard" not in d["metadata"]["labels"])


def test_defaults_render_a_statefulset_with_a_claim_and_everything_prometheus_and_grafana_select(
        chart: helm.Chart) -> None:
    docs = render(chart)
    kinds = {d["kind"] for d in docs}
    assert CORE_KINDS | {"ServiceMonitor", "PrometheusRule"} <= kinds
    assert not kinds & {"Deployment", "PodMonitor", "NetworkPolicy"}
    sts = one(docs, "StatefulSet")
    assert sts["spec"]["replicas"] == 1
    [claim] = sts["spec"]["volumeClaimTemplates"]
    assert claim["metadata"]["name"] == "data"
    assert claim["spec"]["resources"]["requests"]["storage"] == "2Gi"
    assert "storageClassName" not in claim["spec"]
    headless = [s for s in of_kind(docs, "Service") if s["spec"].get("clusterIP") == "None"]
    assert [s["metadata"]["name"] for s in headless] == [sts["spec"]["serviceName"]]
    dashboards = [d for d in of_kind(docs, "ConfigMap") if "grafana_dashboard" in d["metadata"]["labels"]]
    assert len(dashboards) == len(list(DASHBOARDS_SOURCE.glob("*.json")))


def test_without_persistence_a_deployment_keeps_the_store_in_an_emptydir(chart: helm.Chart) -> None:
    docs = render(chart, SCENARIOS["no-persistence-values.yaml"])
    assert not of_kind(docs, "StatefulSet")
    deployment = one(docs, "Deployment")
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    assert "emptyDir" in volumes["data"]
    assert one(docs, "PodDisruptionBudget")["spec"] == {
        "minAvailable": 0, "selector": deployment["spec"]["selector"]}


def test_the_container_runs_the_sidecar_contract(chart: helm.Chart) -> None:
    sidecar = container(render(chart))
    assert sidecar["args"] == ["serve", "--host", "0.0.0.0", "--port", "8000",
                               "--store", "/var/lib/aivitals/aivitals.db",
                               "--config", "/etc/aivitals/config.yaml",
                               "--thresholds", "/etc/aivitals/thresholds.yaml"]
    assert sidecar["ports"] == [{"name": "http", "containerPort": 8000, "protocol": "TCP"}]
    assert sidecar["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert sidecar["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    mounts = {m["mountPath"]: m for m in sidecar["volumeMounts"]}
    assert set(mounts) == {"/var/lib/aivitals", "/etc/aivitals", "/tmp"}
    assert mounts["/etc/aivitals"]["readOnly"] is True
    assert sidecar["resources"] == {"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"memory": "512Mi"}}


@pytest.mark.parametrize("scenario", ["defaults", "no-persistence-values.yaml"])
def test_the_pod_runs_as_non_root_on_a_read_only_root_with_nothing_to_escalate(
        chart: helm.Chart, scenario: str) -> None:
    docs = render(chart, ALL_VALUES[scenario])
    pod = pod_spec(docs)
    assert pod["securityContext"] == {"runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 10001,
                                      "fsGroup": 10001, "fsGroupChangePolicy": "OnRootMismatch",
                                      "seccompProfile": {"type": "RuntimeDefault"}}
    assert pod["automountServiceAccountToken"] is False
    ctx = container(docs)["securityContext"]
    assert ctx["readOnlyRootFilesystem"] is True
    assert ctx["allowPrivilegeEscalation"] is False
    assert ctx["capabilities"] == {"drop": ["ALL"]}
    assert ctx["seccompProfile"] == {"type": "RuntimeDefault"}


def test_config_and_thresholds_are_mounted_from_configmaps_as_yaml(chart: helm.Chart) -> None:
    values = SCENARIOS["inline-token-values.yaml"]
    docs = render(chart, values)
    maps = {d["metadata"]["name"]: d for d in of_kind(docs, "ConfigMap")}
    assert yaml.safe_load(maps["aivitals-config"]["data"]["config.yaml"]) == values["config"]
    assert yaml.safe_load(maps["aivitals-thresholds"]["data"]["thresholds.yaml"]) == {
        "thresholds": values["thresholds"], "capacity": values["capacity"]}
    projected = next(v for v in pod_spec(docs)["volumes"] if v["name"] == "config")["projected"]["sources"]
    assert [s["configMap"]["name"] for s in projected] == ["aivitals-config", "aivitals-thresholds"]


def test_empty_config_and_thresholds_render_as_empty_mappings(chart: helm.Chart) -> None:
    maps = {d["metadata"]["name"]: d for d in of_kind(render(chart), "ConfigMap")}
    assert yaml.safe_load(maps["aivitals-config"]["data"]["config.yaml"]) == {}
    assert yaml.safe_load(maps["aivitals-thresholds"]["data"]["thresholds.yaml"]) == {}


def test_a_changed_threshold_rolls_the_pod(chart: helm.Chart) -> None:
    a = render(chart)
    b = render(chart, {"thresholds": {"latency_p95_seconds": {"warning": 3}}})
    annotations = [next(d for d in docs if d["kind"] == "StatefulSet")["spec"]["template"]["metadata"]["annotations"]
                   for docs in (a, b)]
    assert annotations[0]["checksum/thresholds"] != annotations[1]["checksum/thresholds"]
    assert annotations[0]["checksum/config"] == annotations[1]["checksum/config"]


KEY_ENV = {"name": "AIVITALS_USER_KEY_SECRET", "valueFrom": {"secretKeyRef": {
    "name": "aivitals-hashing-key", "key": "hashing-key"}}}


def secrets_by_name(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in of_kind(docs, "Secret")}


def test_an_inline_token_becomes_a_secret_the_container_reads(chart: helm.Chart) -> None:
    values = SCENARIOS["inline-token-values.yaml"]
    docs = render(chart, values)
    secret = secrets_by_name(docs)["aivitals-api-token"]
    assert base64.b64decode(secret["data"]["api-token"]).decode() == values["apiToken"]["value"]
    assert container(docs)["env"] == [{"name": "AIVITALS_API_TOKEN", "valueFrom": {"secretKeyRef": {
        "name": secret["metadata"]["name"], "key": "api-token"}}}, KEY_ENV]


def test_a_token_from_an_existing_secret_renders_no_token_secret_of_its_own(chart: helm.Chart) -> None:
    docs = render(chart, SCENARIOS["existing-secret-values.yaml"])
    assert list(secrets_by_name(docs)) == ["aivitals-hashing-key"]
    assert container(docs)["env"] == [{"name": "AIVITALS_API_TOKEN", "valueFrom": {"secretKeyRef": {
        "name": "aivitals-token", "key": "token"}}}, KEY_ENV]
    assert "aivitals-token" in notes(chart, SCENARIOS["existing-secret-values.yaml"])


def test_without_a_token_or_hashing_key_the_chart_generates_both_into_secrets(chart: helm.Chart) -> None:
    # the sidecar listens on 0.0.0.0 in the pod and refuses to start without a token
    docs = render(chart)
    secrets = secrets_by_name(docs)
    token = base64.b64decode(secrets["aivitals-api-token"]["data"]["api-token"]).decode()
    key = base64.b64decode(secrets["aivitals-hashing-key"]["data"]["hashing-key"]).decode()
    assert len(token) == 40 and len(key) == 48 and token.isalnum() and key.isalnum()
    assert secrets["aivitals-hashing-key"]["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    assert [e["name"] for e in container(docs)["env"]] == ["AIVITALS_API_TOKEN", "AIVITALS_USER_KEY_SECRET"]
    text = notes(chart)
    assert "API token was generated" in text and "hashing key was generated" in text


def test_the_hashing_key_comes_from_a_given_value_or_an_existing_secret(chart: helm.Chart) -> None:
    inline = secrets_by_name(render(chart, {"hashingKey": {"value": "k" * 20}}))["aivitals-hashing-key"]
    assert base64.b64decode(inline["data"]["hashing-key"]).decode() == "k" * 20
    docs = render(chart, {"hashingKey": {"existingSecret": {"name": "vault-key", "key": "hmac"}}})
    assert "aivitals-hashing-key" not in secrets_by_name(docs)
    assert container(docs)["env"][1] == {"name": "AIVITALS_USER_KEY_SECRET", "valueFrom": {"secretKeyRef": {
        "name": "vault-key", "key": "hmac"}}}


@pytest.mark.parametrize("release", ["kube-prometheus-stack", "kps"])
def test_monitoring_objects_carry_the_release_label_prometheus_selects(chart: helm.Chart, release: str) -> None:
    values = {**SCENARIOS["podmonitor-values.yaml"], "prometheus": {"release": release, "labels": {"team": "ml"}}}
    docs = render(chart, values)
    monitored = [d for d in docs if d["kind"] in ("ServiceMonitor", "PodMonitor", "PrometheusRule")]
    assert {d["kind"] for d in monitored} == {"ServiceMonitor", "PodMonitor", "PrometheusRule"}
    for doc in monitored:
        assert doc["metadata"]["labels"]["release"] == release
        assert doc["metadata"]["labels"]["team"] == "ml"


def test_the_servicemonitor_selects_the_service_and_scrapes_its_named_port(chart: helm.Chart) -> None:
    docs = render(chart)
    monitor = one(docs, "ServiceMonitor")
    [service] = [s for s in of_kind(docs, "Service") if s["spec"].get("clusterIP") != "None"]
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": [NAMESPACE]}
    [endpoint] = monitor["spec"]["endpoints"]
    assert endpoint["port"] in {p["name"] for p in service["spec"]["ports"]}
    assert (endpoint["path"], endpoint["interval"], endpoint["scrapeTimeout"]) == ("/metrics", "30s", "10s")
    # the catalogue's `service` label must survive the operator's own `service` target label
    assert "service" in LABELS and endpoint["honorLabels"] is True
    assert service["spec"]["selector"].items() <= pod_labels(docs).items()


def pod_labels(docs: list[dict[str, Any]]) -> dict[str, str]:
    workload = next(d for d in docs if d["kind"] in ("StatefulSet", "Deployment"))
    return dict(workload["spec"]["template"]["metadata"]["labels"])


def test_the_podmonitor_scrapes_the_application_pods_it_is_told_to(chart: helm.Chart) -> None:
    values = SCENARIOS["podmonitor-values.yaml"]
    monitor = one(render(chart, values), "PodMonitor")
    assert monitor["spec"]["selector"] == {"matchLabels": {"app.kubernetes.io/part-of": "chat-assistant"}}
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": ["chat", "search"]}
    assert monitor["spec"]["podMetricsEndpoints"] == [
        {"port": "metrics", "path": "/metrics", "interval": "30s", "scrapeTimeout": "10s"}]
    anywhere = {"podMonitor": {**values["podMonitor"], "namespaceSelector": {"any": True}, "path": "/custom"}}
    monitor = one(render(chart, anywhere), "PodMonitor")
    assert monitor["spec"]["namespaceSelector"] == {"any": True}
    assert monitor["spec"]["podMetricsEndpoints"][0]["path"] == "/custom"
    same = {"podMonitor": {"enabled": True, "selector": {"matchLabels": {"app": "x"}}}}
    assert one(render(chart, same), "PodMonitor")["spec"]["namespaceSelector"] == {"matchNames": [NAMESPACE]}


def source_groups() -> list[dict[str, Any]]:
    groups: list[dict[str, Any]] = []
    for path in sorted(RULES_SOURCE.glob("*.yaml")):
        groups.extend(yaml.safe_load(path.read_text())["groups"])
    return groups


def test_the_prometheusrule_holds_exactly_the_generated_groups_in_file_order(chart: helm.Chart) -> None:
    rule = one(render(chart), "PrometheusRule")
    assert rule["spec"]["groups"] == source_groups()
    assert len(rule["spec"]["groups"]) >= 2


@pytest.mark.prometheus
def test_promtool_accepts_the_rendered_rule_groups(chart: helm.Chart, tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool is not installed: run scripts/test.sh, which installs it")
    rule = one(render(chart), "PrometheusRule")
    path = tmp_path / "rendered.rules.yaml"
    path.write_text(yaml.safe_dump({"groups": rule["spec"]["groups"]}, sort_keys=False))
    result = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def dashboard_maps(docs: list[dict[str, Any]], label: str = "grafana_dashboard") -> dict[str, dict[str, Any]]:
    return {next(iter(d["data"])): d for d in of_kind(docs, "ConfigMap") if label in d["metadata"]["labels"]}


def test_each_dashboard_configmap_holds_its_file_byte_for_byte(chart: helm.Chart) -> None:
    maps = dashboard_maps(render(chart))
    files = sorted(DASHBOARDS_SOURCE.glob("*.json"))
    assert sorted(maps) == [p.name for p in files]
    for path in files:
        cm = maps[path.name]
        assert cm["data"] == {path.name: path.read_text()}
        assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"
        assert "annotations" not in cm["metadata"]
        json.loads(cm["data"][path.name])


def test_dashboard_label_folder_and_namespace_follow_the_values(chart: helm.Chart) -> None:
    values = {"dashboards": {"label": "my_dashboards", "labelValue": "yes", "folder": "AI vitals",
                             "folderAnnotation": "k8s-sidecar-target-directory", "namespace": "monitoring"}}
    maps = dashboard_maps(render(chart, values), "my_dashboards")
    assert maps
    for cm in maps.values():
        assert cm["metadata"]["labels"]["my_dashboards"] == "yes"
        assert "grafana_dashboard" not in cm["metadata"]["labels"]
        assert cm["metadata"]["annotations"] == {"k8s-sidecar-target-directory": "AI vitals"}
        assert cm["metadata"]["namespace"] == "monitoring"


@pytest.mark.parametrize("switch", ["serviceMonitor", "prometheusRule", "dashboards", "podDisruptionBudget",
                                    "serviceAccount"])
def test_each_optional_object_can_be_switched_off(chart: helm.Chart, switch: str) -> None:
    key = "create" if switch == "serviceAccount" else "enabled"
    kinds = {"serviceMonitor": "ServiceMonitor", "prometheusRule": "PrometheusRule",
             "podDisruptionBudget": "PodDisruptionBudget", "serviceAccount": "ServiceAccount"}
    docs = render(chart, {switch: {key: False}})
    if switch == "dashboards":
        assert not dashboard_maps(docs)
    else:
        assert not of_kind(docs, kinds[switch])
    if switch == "serviceAccount":
        assert pod_spec(docs)["serviceAccountName"] == "default"


def test_the_networkpolicy_admits_prometheus_and_the_app_namespaces_on_port_8000_only(chart: helm.Chart) -> None:
    docs = render(chart, SCENARIOS["networkpolicy-values.yaml"])
    policy = one(docs, "NetworkPolicy")
    assert policy["spec"]["podSelector"]["matchLabels"].items() <= pod_labels(docs).items()
    assert policy["spec"]["policyTypes"] == ["Ingress"]
    [rule] = policy["spec"]["ingress"]
    assert rule["ports"] == [{"port": "http", "protocol": "TCP"}]
    assert rule["from"] == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
         "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}}},
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "chat"}}},
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "search"}}},
        {"podSelector": {}},
        {"ipBlock": {"cidr": "10.20.0.0/16"}},
    ]


def test_a_storage_class_is_passed_to_the_claim_and_a_dash_disables_provisioning(chart: helm.Chart) -> None:
    for given, expected in (("fast-ssd", "fast-ssd"), ("-", "")):
        docs = render(chart, {"persistence": {"storageClass": given, "requireStorageClass": True}})
        [claim] = one(docs, "StatefulSet")["spec"]["volumeClaimTemplates"]
        assert claim["spec"]["storageClassName"] == expected


def test_an_image_digest_pins_the_image(chart: helm.Chart) -> None:
    digest = "sha256:" + "ab" * 32
    assert container(render(chart))["image"] == "aivitals:0.1.0"
    assert container(render(chart, {"image": {"repository": "r.example/aivitals", "digest": digest}}))[
        "image"] == f"r.example/aivitals@{digest}"


def test_the_notes_tell_the_operator_what_to_check_next(chart: helm.Chart) -> None:
    text = notes(chart, {**SCENARIOS["podmonitor-values.yaml"], **SCENARIOS["inline-token-values.yaml"]})
    for expected in ("port-forward svc/aivitals 8000:8000", "/readyz", "curl -fsS -X POST http://127.0.0.1:8000/v1/",
                     "Authorization: Bearer $TOKEN", "serviceMonitor/ai/aivitals/0 is UP",
                     "podMonitor/ai/aivitals-apps/0", "Status > Rules", "release=kube-prometheus-stack",
                     "get configmap -l grafana_dashboard=1", "/metrics"):
        assert expected in text, expected


TRICKY_RULES = """\
groups:
  - name: tricky
    interval: 30s
    limit: 10
    rules:
      - alert: Tricky
        expr: |
          sum by (service) (rate(aivitals_requests_total{status="error"}[5m])) > 0.05
        for: 1h
        keep_firing_for: 5m
        labels: {severity: "yes", team: "012", ratio: "1.0"}
        annotations:
          summary: "Ünïcode — {{ $labels.service }}: {{ $value | humanize }}"
          description: |-
            Line one.
              Indented line two: with colon.
          empty: ""
      - record: x:y:z
        expr: vector(1e+06)
"""


def test_rule_text_that_yaml_could_mangle_reaches_the_prometheusrule_unchanged(tmp_path: Path) -> None:
    path = chart_copy(tmp_path)
    (path / "files" / "rules" / "zz-tricky.yaml").write_text(TRICKY_RULES)
    with helm.Chart.load(path) as tricky:
        groups = one(render(tricky), "PrometheusRule")["spec"]["groups"]
    assert groups == [*source_groups(), *yaml.safe_load(TRICKY_RULES)["groups"]]
