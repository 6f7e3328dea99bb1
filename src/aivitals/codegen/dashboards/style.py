"""House style for aivitals dashboards, kept apart from the Grafana library.

One place decides the datasource variable, the filter variables and how they
are injected into every query (``SEL``), panel sizes, threshold colours and
the JSON encoding (sorted keys, indent 2).
"""

from __future__ import annotations

import json
from typing import Any, cast

from grafana_foundation_sdk.builders import common as cb
from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.builders import prometheus as prom
from grafana_foundation_sdk.builders import stat, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as dm

from ...catalogue import Comparison, Threshold
from ...catalogue.promql import FILTER_LABELS, render, sel_for
from ..header import header

DATASOURCE = common.DataSourceRef(type_val="prometheus", uid="${datasource}")
#: What each filter label is matched against: the template variable of the same name.
FILTER_VALUES = {name: f"${name}" for name in FILTER_LABELS}
#: Series the filter variables take their values from (recorded, so cheap to list).
VARIABLE_SOURCE = "service_model:aivitals_requests:rate5m"
UID_PREFIX = "aivitals-"
HEADER = header("text")

GREEN, YELLOW, RED = "green", "yellow", "red"


def sel(labels: tuple[str, ...]) -> str:
    """The SEL filter for a series that keeps ``labels``: only filters it can answer."""
    return sel_for(labels, FILTER_VALUES)


def expr(query: str, labels: tuple[str, ...], window: str | None = None) -> str:
    """A catalogue query with the dashboard's filters injected."""
    return render(query, window, sel(labels))


def target(query: str, legend: str = "", ref: str = "A", instant: bool = False) -> prom.Dataquery:
    q = prom.Dataquery().expr(query).ref_id(ref).datasource(DATASOURCE)
    if legend:
        q = q.legend_format(legend)
    return q.instant() if instant else q.range()


def legend(labels: tuple[str, ...]) -> str:
    shown = [label for label in labels if label != "namespace"]
    return " / ".join(f"{{{{{label}}}}}" for label in shown)


def thresholds(items: tuple[Threshold, ...]) -> db.ThresholdsConfig:
    """Threshold colours from the catalogue: green on the healthy side, yellow past warning, red past critical."""
    steps: list[dm.Threshold] = [dm.Threshold(value=None, color=GREEN)]
    usable = [t for t in items if t.comparison is not Comparison.EQUAL]
    if usable:
        t = usable[0]
        if t.comparison is Comparison.ABOVE:
            steps = [dm.Threshold(value=None, color=GREEN)]
            if t.warning is not None:
                steps.append(dm.Threshold(value=t.warning, color=YELLOW))
            if t.critical is not None:
                steps.append(dm.Threshold(value=t.critical, color=RED))
        else:
            worst = t.critical if t.critical is not None else t.warning
            steps = [dm.Threshold(value=None, color=RED)]
            if t.critical is not None and t.warning is not None:
                steps.append(dm.Threshold(value=t.critical, color=YELLOW))
            steps.append(dm.Threshold(value=t.warning if t.warning is not None else worst, color=GREEN))
    return db.ThresholdsConfig().mode(dm.ThresholdsMode.ABSOLUTE).steps(steps)


def link(title: str, board: str) -> db.DashboardLink:
    """One click deeper, keeping the time range and the filters."""
    return (db.DashboardLink(title).type(dm.DashboardLinkType.LINK).url(f"/d/{UID_PREFIX}{board}")
            .include_vars(True).keep_time(True))


def timeseries_panel(title: str, description: str, unit: str, targets: list[prom.Dataquery],
                     limits: tuple[Threshold, ...] = (), width: int = 12) -> timeseries.Panel:
    panel = (timeseries.Panel().title(title).description(description).unit(unit).datasource(DATASOURCE)
             .targets(cast("list[Any]", targets)).height(8).span(width).thresholds(thresholds(limits)))
    if limits:
        panel = panel.thresholds_style(cb.GraphThresholdsStyleConfig().mode(
            common.GraphThresholdsStyleMode.LINE_AND_AREA))
    return panel


def stat_panel(title: str, description: str, unit: str, targets: list[prom.Dataquery],
               limits: tuple[Threshold, ...] = (), width: int = 4, height: int = 5,
               links: list[db.DashboardLink] | None = None) -> stat.Panel:
    panel = (stat.Panel().title(title).description(description).unit(unit).datasource(DATASOURCE)
             .targets(cast("list[Any]", targets)).height(height).span(width).thresholds(thresholds(limits))
             .graph_mode(common.BigValueGraphMode.AREA).color_mode(common.BigValueColorMode.VALUE)
             .reduce_options(cb.ReduceDataOptions().calcs(["lastNotNull"])))
    if links:
        panel = panel.links(cast("list[Any]", links))
    return panel


def variables() -> list[Any]:
    """Datasource first, then namespace, service and model, each narrowing the next."""
    out: list[Any] = [db.DatasourceVariable("datasource").label("Data source").type("prometheus")]
    narrowing: dict[str, str] = {}
    for name in FILTER_LABELS:
        matchers = ", ".join(f'{k}=~"{v}"' for k, v in narrowing.items())
        source = f"{VARIABLE_SOURCE}{{{matchers}}}" if matchers else VARIABLE_SOURCE
        out.append(db.QueryVariable(name).label(name.capitalize()).datasource(DATASOURCE)
                   .query(f"label_values({source}, {name})").definition(f"label_values({source}, {name})")
                   .multi(True).include_all(True).all_value(".*")
                   .current(dm.VariableOption(selected=True, text="All", value="$__all"))
                   .refresh(dm.VariableRefresh.ON_TIME_RANGE_CHANGED).sort(dm.VariableSort.ALPHABETICAL_ASC))
        narrowing[name] = f"${name}"
    return out


def dashboard(board: str, title: str, description: str) -> db.Dashboard:
    return (db.Dashboard(title).uid(f"{UID_PREFIX}{board}").description(f"{description} ({HEADER})")
            .tags(["aivitals", "generated"]).time("now-6h", "now").refresh("1m").timezone("browser")
            .editable().variables(variables()))


def encode(board: db.Dashboard) -> str:
    """Deterministic JSON with unique panel ids in layout order."""
    data = json.loads(JSONEncoder(sort_keys=True).encode(board.build()))
    for number, panel in enumerate(data.get("panels", []), start=1):
        panel["id"] = number
        for target_ in panel.get("targets", []):
            target_.setdefault("datasource", {"type": "prometheus", "uid": "${datasource}"})
    return json.dumps(data, sort_keys=True, indent=2) + "\n"
