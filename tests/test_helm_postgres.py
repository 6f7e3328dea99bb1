"""The chart with several sidecar replicas on PostgreSQL: the URL from a Secret, the replica id from the pod name,
a PodDisruptionBudget over the replicas; the schema refuses several replicas on SQLite."""

from __future__ import annotations

import json
from typing import Any

import helm_python as helm
import jsonschema
import pytest
import yaml

from helm_support import CHART, of_kind, one, render, validate_all

POSTGRES = {"replicas": 3, "store": {"type": "postgres", "postgres": {"existingSecret": {"name": "aivitals-db"}}}}


def container(docs: list[dict[str, Any]]) -> dict[str, Any]:
    return one(docs, "StatefulSet")["spec"]["template"]["spec"]["containers"][0]  # type: ignore[no-any-return]


def test_replicas_on_postgres_read_the_url_from_the_secret_and_are_named_by_their_pod(chart: helm.Chart) -> None:
    docs = render(chart, POSTGRES)
    validate_all(docs)
    workload = one(docs, "StatefulSet")
    assert workload["spec"]["replicas"] == 3
    assert "volumeClaimTemplates" not in workload["spec"]  # the database holds the state, not a volume
    sidecar = container(docs)
    env = {e["name"]: e["valueFrom"] for e in sidecar["env"]}
    assert env["AIVITALS_STORE_URL"] == {"secretKeyRef": {"name": "aivitals-db", "key": "url"}}
    assert env["POD_NAME"] == {"fieldRef": {"fieldPath": "metadata.name"}}
    args = sidecar["args"]
    assert args[args.index("--replica-id") + 1] == "$(POD_NAME)"
    assert "--store" not in args  # the URL, password included, never on the command line
    assert all(m["name"] != "data" for m in sidecar["volumeMounts"])
    assert any(s["spec"].get("clusterIP") == "None" for s in of_kind(docs, "Service"))  # the StatefulSet's Service


def test_a_disruption_budget_keeps_all_but_one_replica_up(chart: helm.Chart) -> None:
    docs = render(chart, POSTGRES)
    budget = one(docs, "PodDisruptionBudget")
    assert budget["spec"]["maxUnavailable"] == 1
    pod_labels = one(docs, "StatefulSet")["spec"]["template"]["metadata"]["labels"]
    assert budget["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()


@pytest.mark.parametrize("replicas", [2, 5])
def test_the_schema_rejects_several_replicas_on_sqlite_and_accepts_them_on_postgres(replicas: int) -> None:
    validator = jsonschema.Draft7Validator(json.loads((CHART / "values.schema.json").read_text()))
    defaults = yaml.safe_load((CHART / "values.yaml").read_text())
    errors = [e.message for e in validator.iter_errors({**defaults, "replicas": replicas})]
    assert any("'postgres' was expected" in e for e in errors), errors
    on_postgres = {**defaults, **POSTGRES, "replicas": replicas}
    assert list(validator.iter_errors(on_postgres)) == []
    without_secret = {**defaults, "replicas": replicas, "store": {"type": "postgres"}}
    assert list(validator.iter_errors(without_secret)) != []


def test_helm_itself_refuses_several_replicas_on_sqlite_through_the_schema(chart: helm.Chart) -> None:
    with pytest.raises(helm.HelmValuesError) as caught:
        render(chart, {"replicas": 2})
    assert "/store/type" in str(caught.value)
