"""Dashboards validate against Grafana's schemas and follow the house style."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from _shared import shared_dir
from aivitals.catalogue import DERIVED, VITALS, Dashboard
from aivitals.codegen.dashboards import render_dashboards

BOARDS = {name: json.loads(text) for name, text in render_dashboards().items()}


def _schema(name: str) -> dict[str, Any]:
    return json.loads((shared_dir() / "schemas" / name).read_text(encoding="utf-8"))


def _panels(board: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in board["panels"] if p["type"] != "row"]


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_dashboard_validates_against_the_grafana_schema(name: str) -> None:
    schema = _schema("grafana-dashboard.jsonschema.json")
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = sorted(validator.iter_errors(BOARDS[name]), key=str)
    assert not errors, [e.message for e in errors[:5]]


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_each_panel_s_options_and_custom_field_config_validate_against_its_panel_schema(name: str) -> None:
    for panel in _panels(BOARDS[name]):
        schema = _schema(f"grafana-{panel['type']}.jsonschema.json")
        definitions = schema["definitions"]
        options = {"$ref": "#/definitions/Options", "definitions": definitions}
        jsonschema.Draft7Validator(options).validate(panel["options"])
        if "FieldConfig" in definitions:
            custom = {"$ref": "#/definitions/FieldConfig", "definitions": definitions}
            jsonschema.Draft7Validator(custom).validate(panel["fieldConfig"]["defaults"].get("custom", {}))


def test_a_broken_panel_is_caught_by_the_panel_schema() -> None:
    schema = _schema("grafana-stat.jsonschema.json")
    options = {"$ref": "#/definitions/Options", "definitions": schema["definitions"]}
    panel = next(p for p in _panels(BOARDS["aivitals-executive.json"]) if p["type"] == "stat")
    broken = {**panel["options"], "graphMode": "sparkles"}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(options).validate(broken)


def test_uids_are_stable_and_named_after_the_dashboard() -> None:
    assert {b["uid"] for b in BOARDS.values()} == {f"aivitals-{d.value}" for d in Dashboard}
    for name, board in BOARDS.items():
        assert name == f"{board['uid']}.json"


def test_every_panel_has_a_description_a_unit_and_the_datasource_variable() -> None:
    for board in BOARDS.values():
        for panel in _panels(board):
            assert panel["description"], panel["title"]
            assert panel["fieldConfig"]["defaults"]["unit"], panel["title"]
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
            for target in panel["targets"]:
                assert target["datasource"]["uid"] == "${datasource}"


def test_datasource_namespace_service_and_model_are_template_variables() -> None:
    for board in BOARDS.values():
        names = [v["name"] for v in board["templating"]["list"]]
        assert names == ["datasource", "namespace", "service", "model"]


def test_every_query_filters_on_namespace_and_on_service_and_model_where_the_series_has_them() -> None:
    for board in BOARDS.values():
        for panel in _panels(board):
            for target in panel["targets"]:
                expr = target["expr"]
                assert 'namespace=~"$namespace"' in expr, expr
                for label in ("service", "model"):
                    if f"{label}=~" in expr:
                        assert f'{label}=~"${label}"' in expr


def _rows(board: dict[str, Any]) -> list[tuple[str, str]]:
    """(row title, panel title) for each panel, in the order the dashboard shows them."""
    out, row = [], ""
    for panel in board["panels"]:
        if panel["type"] == "row":
            row = panel["title"]
        else:
            out.append((row, panel["title"]))
    return out


def test_every_vital_and_shown_derived_series_has_one_panel_in_the_row_the_catalogue_names() -> None:
    for dashboard in Dashboard:
        if dashboard is Dashboard.EXECUTIVE:
            continue
        vitals = [v for v in VITALS if v.dashboard is dashboard]
        derived = [d for d in DERIVED if d.dashboard is dashboard]
        want = {(v.row, (f"#{v.number} " if v.number else "") + v.title) for v in vitals}
        want |= {(d.row, d.description.split(":")[0].rstrip(".")) for d in derived}
        shown = _rows(BOARDS[f"aivitals-{dashboard.value}.json"])
        assert len(shown) == len(vitals) + len(derived) == len(set(shown)), dashboard
        assert set(shown) == want, dashboard
    assert {v.number for v in VITALS if v.number} == set(range(1, 31))


def test_panels_follow_the_order_the_catalogue_gives_within_each_row() -> None:
    latency = [title for row, title in _rows(BOARDS["aivitals-engineering.json"]) if row == "Latency"]
    assert latency[0] == "#6 Latency p95"
    assert [d.order for d in DERIVED if d.row == "Latency"] == [2, 3, 4, 5]


def test_the_executive_dashboard_has_the_six_tiles_with_colours_sparklines_and_links() -> None:
    board = BOARDS["aivitals-executive.json"]
    tiles = [p for p in _panels(board) if p["gridPos"]["h"] == 6]
    assert len(tiles) == 7  # tile 3 is shared: accuracy for classical models, hallucinations for LLMs
    for tile in tiles:
        steps = tile["fieldConfig"]["defaults"]["thresholds"]["steps"]
        assert {s["color"] for s in steps} >= {"green", "red"}, tile["title"]
        assert tile["options"]["graphMode"] == "area"
        assert tile["links"][0]["url"].startswith("/d/aivitals-") and tile["links"][0]["includeVars"]
    totals = [p["title"] for p in _panels(board) if p["gridPos"]["h"] == 4]
    assert totals == ["Requests", "Spend", "Unmetered calls", "ROI"]


def test_tile_colours_come_from_the_catalogue_thresholds() -> None:
    tile = next(p for p in _panels(BOARDS["aivitals-executive.json"]) if p["title"] == "p95 latency")
    latency = next(v for v in VITALS if v.id == "latency_p95").thresholds[0]
    steps = tile["fieldConfig"]["defaults"]["thresholds"]["steps"]
    assert [(s["value"], s["color"]) for s in steps] == [(None, "green"), (latency.warning, "yellow"),
                                                         (latency.critical, "red")]


def test_no_query_hard_codes_a_datasource_or_a_filter_value() -> None:
    for board in BOARDS.values():
        text = json.dumps(board)
        assert not re.search(r'(service|model|namespace)="[^$"]', text)


def test_committed_json_is_sorted_and_indented(tmp_path: Path) -> None:
    for name, board in BOARDS.items():
        assert render_dashboards()[name] == json.dumps(board, sort_keys=True, indent=2) + "\n"
