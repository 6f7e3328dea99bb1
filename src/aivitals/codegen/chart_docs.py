"""The chart's README, generated from ``values.yaml`` and ``values.schema.json``.

Descriptions come from the ``##`` comments above each key, types from the
schema, defaults from the parsed values, so the table cannot drift from what
the chart accepts. Generating fails when a key has no comment, or when
values.yaml and the schema disagree on which keys exist.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

Key = tuple[str, ...]

_KEY_LINE = re.compile(r"^(?P<indent> *)(?P<key>[^\s#:'\"-][^:]*?|\"[^\"]+\"):(?:\s|$)")


class ChartDocsError(ValueError):
    """values.yaml and the schema disagree, or a key is undocumented."""


def comments(values_text: str) -> dict[Key, str]:
    """The ``##`` comment block right above each key, by key path."""
    found: dict[Key, str] = {}
    stack: list[tuple[int, str]] = []
    pending: list[str] = []
    for line in values_text.splitlines():
        stripped = line.strip()
        if stripped.startswith("##"):
            pending.append(stripped.lstrip("#").strip())
            continue
        match = _KEY_LINE.match(line)
        if not stripped or stripped.startswith("#") or match is None:
            pending = []
            continue
        indent = len(match["indent"])
        while stack and stack[-1][0] >= indent:
            stack.pop()
        key = match["key"].strip('"')
        stack.append((indent, key))
        if pending:
            found[tuple(k for _, k in stack)] = " ".join(pending)
        pending = []
    return found


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return {**schema["$defs"][ref.removeprefix("#/$defs/")], "_def": ref.removeprefix("#/$defs/")}
    return node


def _walk_schema(schema: dict[str, Any], node: dict[str, Any], path: Key) -> Iterator[tuple[Key, dict[str, Any]]]:
    node = _resolve(schema, node)
    props = node.get("properties")
    closed = isinstance(props, dict) and node.get("additionalProperties") is False
    if path and (not closed or path == ("thresholds",)):
        yield path, node
        return
    for name, child in (props or {}).items():
        yield from _walk_schema(schema, child, (*path, name))


def _walk_values(values: Any, path: Key, leaves: set[Key]) -> Iterator[tuple[Key, Any]]:
    if path in leaves or not isinstance(values, dict):
        yield path, values
        return
    for name, child in values.items():
        yield from _walk_values(child, (*path, name), leaves)


def type_name(node: dict[str, Any]) -> str:
    """A reader's name for a schema node's type."""
    if node.get("_def") == "stringMap":
        return "map of strings"
    if node.get("_def") == "kubernetesObject":
        return "object (Kubernetes)"
    kind = node.get("type", "any")
    if kind == "array":
        items = node.get("items", {})
        inner = "Kubernetes object" if "$ref" in items and "kubernetesObject" in items["$ref"] else (
            "object" if items.get("type") == "object" else items.get("type", "string") if "type" in items else "string")
        return f"list of {inner}"
    text = " or ".join(kind) if isinstance(kind, list) else str(kind)
    if "enum" in node:
        text += " (" + ", ".join(f"`{v}`" for v in node["enum"]) + ")"
    return text


def rows(chart_dir: Path) -> list[tuple[str, str, str, str]]:
    """(key, type, default, description) for every documented value, in file order."""
    text = (chart_dir / "values.yaml").read_text()
    values = yaml.safe_load(text) or {}
    schema = json.loads((chart_dir / "values.schema.json").read_text())
    schema_leaves = dict(_walk_schema(schema, schema, ()))
    value_leaves = dict(_walk_values(values, (), set(schema_leaves)))
    notes = comments(text)
    problems = [f"{'.'.join(k)}: in values.yaml but not in values.schema.json" for k in value_leaves
                if k not in schema_leaves]
    problems += [f"{'.'.join(k)}: in values.schema.json but not in values.yaml" for k in schema_leaves
                 if k not in value_leaves]
    problems += [f"{'.'.join(k)}: no ## comment above it in values.yaml" for k in value_leaves if k not in notes]
    if problems:
        raise ChartDocsError("chart values out of step:\n  " + "\n  ".join(problems))
    return [(".".join(k), type_name(schema_leaves[k]), json.dumps(v), notes[k]) for k, v in value_leaves.items()]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def thresholds_table(chart_dir: Path) -> str:
    schema = json.loads((chart_dir / "values.schema.json").read_text())
    lines = ["| config key | levels | what it is |", "|---|---|---|"]
    for key, node in schema["properties"]["thresholds"].get("properties", {}).items():
        levels = ", ".join(k for k in node["properties"] if k != "per")
        lines.append(f"| `{key}` | {levels} | {_cell(node['description'])} |")
    return "\n".join(lines)


def render_readme(chart_dir: Path | str) -> str:
    """The whole README text; deterministic for the same inputs."""
    chart = Path(chart_dir)
    table = ["| key | type | default | description |", "|---|---|---|---|"]
    table += [f"| `{k}` | {_cell(t)} | `{_cell(d)}` | {_cell(c)} |" for k, t, d, c in rows(chart)]
    return _TEMPLATE.format(values_table="\n".join(table), thresholds_table=thresholds_table(chart))


_TEMPLATE = """\
<!-- Generated by aivitals.codegen.chart_docs from values.yaml and values.schema.json: do not edit. -->
# aivitals Helm chart

Installs the aivitals sidecar beside [kube-prometheus-stack](https://github.com/prometheus-community/helm-charts/tree/main/charts/kube-prometheus-stack),
with everything its Prometheus and Grafana need to pick it up on the first try:

| object | why |
|---|---|
| StatefulSet with a PersistentVolumeClaim | the sidecar and its SQLite store |
| Deployment with an emptyDir, instead | the same, when `persistence.enabled=false` |
| Service (and a headless Service for the StatefulSet) | port 8000: the event API and `/metrics` |
| ServiceMonitor | Prometheus scrapes the sidecar |
| PodMonitor (optional) | Prometheus scrapes your instrumented application pods |
| PrometheusRule | every group of every generated rule file in `files/rules/`, in file order |
| one ConfigMap per dashboard | labelled `grafana_dashboard: "1"`: kube-prometheus-stack's Grafana loads them |
| ConfigMaps `-config` and `-thresholds` | the sidecar's settings and per-vital thresholds |
| Secrets `-api-token`, `-hashing-key` | `/v1`'s bearer token, the key of the stored hashes (given or generated) |
| PodDisruptionBudget, NetworkPolicy (optional), ServiceAccount | operations and hardening |

The ServiceMonitor, PodMonitor and PrometheusRule carry `release: <prometheus.release>`: set it to
the name of your kube-prometheus-stack release (`kube-prometheus-stack` by default), since that is
what its Prometheus selects on.

## Install

```sh
helm install aivitals ./helm/aivitals --namespace ai --create-namespace \\
  --set image.repository=REGISTRY/aivitals --set image.tag=0.1.0 \\
  --set apiToken.existingSecret.name=aivitals-token \\
  --set hashingKey.existingSecret.name=aivitals-hashing-key
```

Then follow the steps the install prints (NOTES): targets up, rules loaded, dashboards in Grafana,
a test event with curl. `docs/kubernetes.md` in the repository walks through the whole path.

Every value is checked against `values.schema.json` before anything renders: an unknown key
(`persistance.enabled`), a wrong type (`replicas: "one"`) or an unknown threshold key fails the
install with the key's path. Contradictions fail with a message that names the key:
`apiToken.value` together with `apiToken.existingSecret.name`, `replicas` above 1 on SQLite,
`persistence.requireStorageClass` without `persistence.storageClass`, `podMonitor.enabled` with no
`podMonitor.selector.matchLabels`.

## Generated files

`files/rules/*.yaml` and `files/dashboards/*.json` are copies of the repository's `alerts/` and
`dashboards/`, made by `aivitals build` (`aivitals.codegen.chart.sync_chart`); the thresholds block of
`values.schema.json` and this README are regenerated at the same time. Do not edit them here.

## Sidecar contract

The image (the repository's `Dockerfile`) runs as UID 10001 and the chart starts it as

```
aivitals serve --host 0.0.0.0 --port 8000 --store /var/lib/aivitals/aivitals.db \\
  --config /etc/aivitals/config.yaml --thresholds /etc/aivitals/thresholds.yaml
```

| what | where |
|---|---|
| API token (required beyond loopback) | env `AIVITALS_API_TOKEN`, from `apiToken` |
| hashing key (never in the store) | env `AIVITALS_USER_KEY_SECRET`, from `hashingKey` |
| settings | `/etc/aivitals/config.yaml`, from `config` |
| thresholds | `/etc/aivitals/thresholds.yaml`, from `thresholds` and `capacity` |
| metrics | `GET /metrics` on port 8000 |
| liveness | `GET /healthz` on port 8000 |
| readiness | `GET /readyz` on port 8000 |
| writable paths | `/var/lib/aivitals` (the store) and `/tmp`; the root filesystem is read-only |
| replicas | one: SQLite has one writer. `store.type: postgres` is reserved for several replicas later |

The pod runs with `runAsNonRoot`, UID/GID 10001, `readOnlyRootFilesystem`, no privilege escalation,
all capabilities dropped and the `RuntimeDefault` seccomp profile; its service account token is not
mounted.

## Values

{values_table}

## Thresholds

Keys of `thresholds`, from the catalogue. Each takes the levels listed and a `per` list of
`{{service, model, <level>}}` overrides, e.g.

```yaml
thresholds:
  latency_p95_seconds:
    warning: 2.0
    per:
      - {{service: chat, model: gpt-4o, warning: 1.5, critical: 4}}
capacity:
  - {{service: chat, model: gpt-4o, requests_per_second: 50}}
```

{thresholds_table}
"""
