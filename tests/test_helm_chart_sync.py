"""The chart's generated parts (rules, dashboards, thresholds schema, README) stay in step with their sources."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import helm_python as helm
import pytest

from aivitals.catalogue import VITALS
from aivitals.codegen import chart as chart_sync
from aivitals.codegen.chart_docs import ChartDocsError, render_readme
from helm_support import CHART, FIXTURES, REPO, one, render


def make_repo(root: Path, with_sources: bool = True) -> Path:
    """A repository with the chart and, optionally, generated alerts/ and dashboards/."""
    shutil.copytree(CHART, root / chart_sync.CHART_DIR, ignore=shutil.ignore_patterns("files"))
    if with_sources:
        shutil.copytree(FIXTURES / "alerts", root / "alerts")
        shutil.copytree(FIXTURES / "dashboards", root / "dashboards")
    return root


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())} if folder.is_dir() else {}


def test_the_committed_chart_is_what_sync_chart_makes_from_the_repository() -> None:
    assert chart_sync.drift(REPO) == []


@pytest.mark.parametrize(("source", "target"), [("alerts", "rules"), ("dashboards", "dashboards")])
def test_the_committed_copies_equal_their_sources(source: str, target: str) -> None:
    pattern = "*.yaml" if source == "alerts" else "*.json"
    src = {p.name: p.read_bytes() for p in (REPO / source).glob(pattern)} if (REPO / source).is_dir() else {}
    dst = {p.name: p.read_bytes() for p in (CHART / "files" / target).glob(pattern)}
    assert dst == src


def test_sync_copies_rules_and_dashboards_into_the_chart_byte_for_byte(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    changed = chart_sync.sync_chart(repo)
    chart = repo / chart_sync.CHART_DIR
    assert files(chart / "files" / "rules") == files(repo / "alerts")
    assert files(chart / "files" / "dashboards") == files(repo / "dashboards")
    assert sorted(p.name for p in changed if "files" in p.parts) == sorted(
        [*files(repo / "alerts"), *files(repo / "dashboards")])


def test_a_second_sync_changes_nothing(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    chart_sync.sync_chart(repo)
    assert chart_sync.sync_chart(repo) == []
    assert chart_sync.drift(repo) == []


def test_a_source_file_removed_upstream_leaves_the_chart_and_other_files_are_ignored(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    chart_sync.sync_chart(repo)
    (repo / "alerts" / "aivitals-alerts.yaml").unlink()
    (repo / "alerts" / "notes.txt").write_text("not a rule file")
    assert chart_sync.drift(repo) == [
        "helm/aivitals/files/rules/aivitals-alerts.yaml differs from alerts/aivitals-alerts.yaml"]
    changed = chart_sync.sync_chart(repo)
    assert [p.name for p in changed] == ["aivitals-alerts.yaml"]
    assert sorted(files(repo / chart_sync.CHART_DIR / "files" / "rules")) == ["aivitals-recording.yaml"]


def test_without_generated_sources_the_chart_ships_no_rules_or_dashboards(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, with_sources=False)
    chart_sync.sync_chart(repo)
    chart = repo / chart_sync.CHART_DIR
    assert files(chart / "files" / "rules") == {} and files(chart / "files" / "dashboards") == {}


def test_the_check_command_fails_on_a_stale_chart_and_passes_after_a_sync(tmp_path: Path,
                                                                           capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo(tmp_path)
    assert chart_sync.main(["--check", "--root", str(repo)]) == 1
    assert "files/rules/aivitals-alerts.yaml" in capsys.readouterr().out
    assert chart_sync.main(["--root", str(repo)]) == 0
    assert chart_sync.main(["--check", "--root", str(repo)]) == 0


def test_the_committed_readme_is_generated_from_values_and_schema() -> None:
    assert (CHART / "README.md").read_text() == render_readme(CHART)


def test_the_readme_documents_every_value_with_its_comment_type_and_default() -> None:
    text = (CHART / "README.md").read_text()
    assert "| `persistence.storageClass` | string | `\"\"` | StorageClass of the claim." in text
    assert "| `replicas` | integer | `1` |" in text
    assert "| `prometheus.release` | string | `\"kube-prometheus-stack\"` |" in text


def test_the_readme_will_not_generate_for_an_undocumented_key(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    chart = repo / chart_sync.CHART_DIR
    values = chart / "values.yaml"
    values.write_text(values.read_text().replace("## Labels on the sidecar pod.\n", ""))
    with pytest.raises(ChartDocsError, match="podLabels: no ## comment"):
        render_readme(chart)


def test_the_readme_will_not_generate_when_values_and_schema_disagree(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    chart = repo / chart_sync.CHART_DIR
    values = chart / "values.yaml"
    values.write_text(values.read_text() + "## Not in the schema.\nextraThing: 1\n")
    schema = json.loads((chart / "values.schema.json").read_text())
    del schema["properties"]["priorityClassName"]
    (chart / "values.schema.json").write_text(json.dumps(schema))
    with pytest.raises(ChartDocsError) as caught:
        render_readme(chart)
    assert "extraThing: in values.yaml but not in values.schema.json" in str(caught.value)
    assert "priorityClassName: in values.yaml but not in values.schema.json" in str(caught.value)


def test_the_thresholds_schema_holds_every_catalogue_config_key_with_its_levels() -> None:
    schema = json.loads((CHART / "values.schema.json").read_text())["properties"]["thresholds"]
    expected = {t.config_key: t for v in VITALS for t in v.thresholds}
    assert set(schema["properties"]) == set(expected)
    assert schema["additionalProperties"] is False
    for key, t in expected.items():
        node = schema["properties"][key]
        levels = {level for level in ("warning", "critical") if getattr(t, level) is not None}
        assert set(node["properties"]) == levels | {"per"}
        for level in levels:
            assert node["properties"][level].get("maximum") == t.maximum
            assert node["properties"][level].get("minimum") == t.minimum


def test_the_dockerfile_runs_what_the_chart_runs_as_the_user_the_chart_expects(chart: helm.Chart) -> None:
    text = (REPO / "Dockerfile").read_text()
    cmd = json.loads(re.search(r"^CMD (\[.*\])$", text, re.M).group(1))  # type: ignore[union-attr]
    entrypoint = json.loads(re.search(r"^ENTRYPOINT (\[.*\])$", text, re.M).group(1))  # type: ignore[union-attr]
    args = one(render(chart), "StatefulSet")["spec"]["template"]["spec"]["containers"][0]["args"]  # the defaults
    assert entrypoint == ["aivitals"]
    assert cmd == [str(a) for a in args]
    assert re.search(r"^USER 10001:10001$", text, re.M)
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.12-slim-bookworm@sha256:[0-9a-f]{64}$", text, re.M)
    assert text.count("FROM ${PYTHON_IMAGE}") == 2
    assert "[test]" not in text and "[all]" not in text
