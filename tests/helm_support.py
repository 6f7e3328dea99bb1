"""Render the Helm chart with the real Helm engine and check what it renders.

The chart under test is a copy whose ``files/`` hold the repository's generated
``alerts/`` and ``dashboards/``; the small fixtures in ``tests/fixtures/`` serve
the tests of ``sync_chart`` itself.
"""

from __future__ import annotations

import copy
import os
import shutil
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import helm_python as helm
import jsonschema
import kubernetes_validate
import pytest
import yaml
from packaging.version import Version

from aivitals.codegen.chart import CHART_DIR, mirror

REPO = Path(__file__).resolve().parent.parent
CHART = REPO / CHART_DIR
FIXTURES = Path(__file__).resolve().parent / "fixtures"
#: A recent Kubernetes: 1.35, or the newest an older kubernetes-validate ships.
KUBE_VERSION = "1.35.0" if Version(kubernetes_validate.utils.latest_version()) >= Version("1.35") else (
    kubernetes_validate.utils.latest_version())
RELEASE = "aivitals"
NAMESPACE = "ai"
CRD_KINDS = {"ServiceMonitor": "servicemonitors", "PodMonitor": "podmonitors", "PrometheusRule": "prometheusrules"}


RULES_SOURCE = REPO / "alerts"
DASHBOARDS_SOURCE = REPO / "dashboards"


def shared_dir() -> Path:
    """``shared/``: $AIVITALS_SHARED, beside the repository (as CI clones it), then /work/shared."""
    candidates = [os.environ.get("AIVITALS_SHARED"), REPO.parent / "shared", "/work/shared"]
    for candidate in candidates:
        if candidate and (Path(candidate) / "schemas").is_dir():
            return Path(candidate)
    raise FileNotFoundError(f"shared/schemas not found; looked in {[str(c) for c in candidates if c]}")


def chart_copy(destination: Path) -> Path:
    """A copy of the chart with the rules and dashboards under test in ``files/``."""
    target = destination / "aivitals"
    shutil.copytree(CHART, target, ignore=shutil.ignore_patterns("files"))
    mirror(RULES_SOURCE, "*.yaml", target / "files" / "rules")
    mirror(DASHBOARDS_SOURCE, "*.json", target / "files" / "dashboards")
    return target


def render(chart: helm.Chart, values: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Every rendered object, parsed (NOTES.txt left out)."""
    manifests = chart.render(values or {}, name=RELEASE, namespace=NAMESPACE, is_install=True)
    docs: list[dict[str, Any]] = []
    for path, text in sorted(manifests.items()):
        if path.endswith("NOTES.txt"):
            continue
        docs.extend(d for d in yaml.safe_load_all(text) if d is not None)
    return docs


def notes(chart: helm.Chart, values: dict[str, Any] | None = None) -> str:
    manifests = chart.render(values or {}, name=RELEASE, namespace=NAMESPACE, is_install=True)
    return next(text for path, text in manifests.items() if path.endswith("NOTES.txt"))


def scenarios() -> dict[str, dict[str, Any]]:
    """The chart's ``ci/*-values.yaml`` files, by name."""
    return {p.name: yaml.safe_load(p.read_text()) or {} for p in sorted((CHART / "ci").glob("*-values.yaml"))}


def of_kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] == kind]


def one(docs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    found = of_kind(docs, kind)
    assert len(found) == 1, f"expected one {kind}, got {len(found)}"
    return found[0]


def validate_core(doc: dict[str, Any]) -> None:
    """Strict Kubernetes schema validation: unknown fields are errors."""
    kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)


def _closed(node: Any) -> Any:
    """An openAPIV3Schema that rejects unknown fields wherever Kubernetes would prune them."""
    if isinstance(node, list):
        return [_closed(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _closed(v) for k, v in node.items() if k != "description"}
    pattern = out.get("pattern")
    if isinstance(pattern, str) and "(?i)" in pattern[1:]:
        out["pattern"] = "(?i)" + pattern.replace("(?i)", "")  # Go allows the flag mid-pattern, Python does not
    if ("properties" in out and "additionalProperties" not in out
            and not out.get("x-kubernetes-preserve-unknown-fields")):
        out["additionalProperties"] = False
    return out


@cache
def crd_validator(kind: str) -> jsonschema.protocols.Validator:
    """A validator for ``kind`` built from the prometheus-operator CRD in shared/schemas."""
    path = shared_dir() / "schemas" / f"crd-{CRD_KINDS[kind]}.yaml"
    crd = next(d for d in yaml.safe_load_all(path.read_text()) if d and d.get("kind") == "CustomResourceDefinition")
    version = next(v for v in crd["spec"]["versions"] if v.get("storage"))
    schema = _closed(copy.deepcopy(version["schema"]["openAPIV3Schema"]))
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    cls.check_schema(schema)
    return cls(schema)


def validate_crd(doc: dict[str, Any]) -> None:
    crd_validator(doc["kind"]).validate(doc)


def validate_all(docs: list[dict[str, Any]]) -> list[str]:
    """Each object against its schema; returns the kinds checked (every object must be checkable)."""
    checked = []
    for doc in docs:
        if doc["kind"] in CRD_KINDS:
            validate_crd(doc)
        else:
            validate_core(doc)
        checked.append(doc["kind"])
    return checked


@pytest.fixture(scope="module")
def chart_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the chart with the committed rules and dashboards, for one test module."""
    return chart_copy(tmp_path_factory.mktemp("chart"))


@pytest.fixture(scope="module")
def chart(chart_path: Path) -> Iterator[helm.Chart]:
    with helm.Chart.load(chart_path) as loaded:
        yield loaded
