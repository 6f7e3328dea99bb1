"""Adding a vital is one catalogue entry: a throwaway one reaches a rule, an alert, a panel, a runbook and the docs.

The catalogue is patched in memory (every aivitals module that bound the
catalogue's VITALS tuple at import sees the longer one, and gets the original
back after the test; the generators are imported above, before any patch, so
none binds the longer one for good); no file is written.
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from typing import Any

import pytest

from aivitals.catalogue import (
    DERIVED,
    DRIFT,
    FIGURES,
    METRICS,
    TARGET_ALERTS,
    TOTALS,
    VITALS,
    VITALS_BY_ID,
    Area,
    CatalogueError,
    Comparison,
    Dashboard,
    Threshold,
    Unit,
    Vital,
    validate,
)
from aivitals.codegen import docs
from aivitals.codegen.dashboards import render_dashboards
from aivitals.codegen.rules import all_alerts, recording_groups
from aivitals.codegen.rules.runbooks import render
from aivitals.codegen.rules.scenario import NoExpectation
from aivitals.codegen.rules.unittests import render_tests

SM = "namespace, service, model"
REPLY = Vital(
    id="reply_length", number=None, title="Reply length", area=Area.ENGINEERING,
    description="Output tokens per model call: answers that grow cost more and read worse.",
    unit=Unit.TOKENS, metrics=("aivitals_tokens_total", "aivitals_requests_total"),
    query=f'sum by ({SM}) (rate(aivitals_tokens_total{{SEL, token_type="output"}}[WINDOW]))'
          f" / sum by ({SM}) (rate(aivitals_requests_total{{SEL}}[WINDOW]))",
    record="service_model:aivitals_reply_tokens:mean_rateWINDOW", windows=("1h",),
    dashboard=Dashboard.ENGINEERING, row="Cost and cache", order=6,
    thresholds=(Threshold(comparison=Comparison.ABOVE, warning=2000.0, critical=None,
                          config_key="reply_tokens_max", for_="30m",
                          reason="Answers over 2000 tokens are usually a prompt that lost its length limit."),),
    first_step="Diff the prompt version against the last release: look for a dropped length instruction.",
)


@pytest.fixture
def with_reply(monkeypatch: pytest.MonkeyPatch) -> tuple[Vital, ...]:
    """The catalogue with the throwaway vital appended, everywhere the generators read it."""
    longer = (*VITALS, REPLY)
    for name, module in list(sys.modules.items()):
        if name == "aivitals" or name.startswith("aivitals."):
            for attr, value in list(vars(module).items()):
                if value is VITALS:
                    monkeypatch.setattr(module, attr, longer)
    monkeypatch.setitem(VITALS_BY_ID, REPLY.id, REPLY)
    return longer


def test_the_catalogue_with_the_new_vital_validates(with_reply: tuple[Vital, ...]) -> None:
    validate(METRICS, with_reply, DERIVED, FIGURES, totals=TOTALS, targets=TARGET_ALERTS, drift=DRIFT)


def test_the_new_vital_reaches_a_recording_rule(with_reply: tuple[Vital, ...]) -> None:
    rules = {r["record"]: r["expr"] for g in recording_groups() for r in g["rules"]}
    expr = rules["service_model:aivitals_reply_tokens:mean_rate1h"]
    assert 'aivitals_tokens_total{token_type="output"}[1h]' in expr


def test_the_new_vital_reaches_an_alert_and_its_runbook_section(with_reply: tuple[Vital, ...]) -> None:
    (alert,) = [a for a in all_alerts() if a.labels.get("vital") == "reply_length"]
    assert alert.severity == "warning" and alert.expr.startswith("service_model:aivitals_reply_tokens:mean_rate1h\n>")
    runbooks = render()
    section = runbooks[runbooks.index(f"## {alert.name}"):]
    assert "reply_tokens_max" in section.split("\n## ")[0]
    assert REPLY.first_step in section.split("\n## ")[0]


def test_the_new_vital_reaches_a_panel_in_its_row(with_reply: tuple[Vital, ...]) -> None:
    board: dict[str, Any] = json.loads(render_dashboards()["aivitals-engineering.json"])
    row, found = "", []
    for panel in board["panels"]:
        row = panel["title"] if panel["type"] == "row" else row
        if panel["title"] == "Reply length":
            found.append((row, panel["targets"][0]["expr"]))
    assert found == [("Cost and cache", 'service_model:aivitals_reply_tokens:mean_rate1h{namespace=~"$namespace", '
                                        'service=~"$service", model=~"$model"}')]


def test_the_new_vital_reaches_the_docs(with_reply: tuple[Vital, ...]) -> None:
    text = docs.render()
    assert "### Reply length (`reply_length`)" in text
    assert "recorded as `service_model:aivitals_reply_tokens:mean_rateWINDOW` at 1h" in text


def test_the_rule_tests_say_what_to_add_for_a_record_they_have_no_value_for(with_reply: tuple[Vital, ...]) -> None:
    with pytest.raises(NoExpectation, match=r"add 'service_model:aivitals_reply_tokens:mean_rate' to _EXPECTED in "
                                            r"src/aivitals/codegen/rules/scenario\.py"):
        render_tests("docs/runbooks.md")


def test_a_vital_in_a_row_its_dashboard_does_not_declare_is_refused_with_where_to_add_it() -> None:
    astray = replace(REPLY, row="Spend")
    with pytest.raises(CatalogueError, match=r"vital reply_length: row 'Spend' is not one of the engineering "
                                             r"dashboard's rows .*add it to that Board in boards\.py"):
        validate(METRICS, (*VITALS, astray), DERIVED)


def test_two_panels_in_one_place_and_an_alerting_vital_without_a_first_step_are_refused() -> None:
    clash = replace(REPLY, order=VITALS_BY_ID["cache_hit_rate"].order, first_step="")
    with pytest.raises(CatalogueError) as caught:
        validate(METRICS, (*VITALS, clash), DERIVED)
    assert "is taken by vital cache_hit_rate" in str(caught.value)
    assert "vital reply_length: it alerts, so give first_step" in str(caught.value)
