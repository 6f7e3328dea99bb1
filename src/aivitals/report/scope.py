"""``--service``, applied in one place: which series carry the service label, and the matcher for those that do.

The catalogue says which labels each series carries. A query is restricted
to the service only when every series it reads carries ``service`` (a
matcher on a series without the label would match nothing); the sidecar's
and the configuration's series (business value, fixed costs, the error
analysis) carry none, so they are read over all services and the page says
so, never mixing them in silently. What a query reads is taken from its
PromQL, so a query cannot be restricted by one list and read by another.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from ..catalogue import METRICS_BY_NAME, Figure
from ..catalogue.promql import render

SERVICE = "service"
#: The page's footnote for a section with figures read over all services.
ALL_SERVICES_NOTE = "all services: this series carries no service label"
_SERIES = re.compile(r"(?<![\w:])(aivitals_[a-z0-9_]+)")
_HISTOGRAM_PARTS = ("_bucket", "_sum", "_count")


@lru_cache(maxsize=256)
def series_of(query: str) -> frozenset[str]:
    """The catalogue series a PromQL query reads (a histogram's _bucket, _sum and _count fold to it)."""
    found: set[str] = set()
    for name in _SERIES.findall(query):
        if name not in METRICS_BY_NAME:
            name = next((name.removesuffix(s) for s in _HISTOGRAM_PARTS
                         if name.endswith(s) and name.removesuffix(s) in METRICS_BY_NAME), name)
        if name not in METRICS_BY_NAME:
            raise ValueError(f"the report reads {name}, which is not in the catalogue: add it there first")
        found.add(name)
    return frozenset(found)


def promql_string(value: str) -> str:
    """``value`` as a double-quoted PromQL string: PromQL reads Go's escapes, of which JSON's are a subset."""
    return json.dumps(value, ensure_ascii=False)


@dataclass(frozen=True)
class ServiceScope:
    """The service a review is for (None: all services), and how each query honours it."""

    service: str | None = None

    @property
    def matcher(self) -> str:
        """``service="S"`` with S escaped, or '' for all services."""
        return f"{SERVICE}={promql_string(self.service)}" if self.service else ""

    def restricts(self, query: str) -> bool:
        """Whether ``query`` is read for the service alone: one is chosen and every series it reads has the label."""
        series = series_of(query)
        return bool(self.service and series and all(SERVICE in METRICS_BY_NAME[s].labels for s in series))

    def mixes(self, query: str) -> bool:
        """A service is chosen but ``query`` cannot honour it: it reads series without the label."""
        return bool(self.service and query) and not self.restricts(query)

    def selector(self, query: str) -> str:
        """The label matchers ``query``'s ``SEL`` becomes."""
        return self.matcher if self.restricts(query) else ""

    def render(self, query: str, window: str | None) -> str:
        """``query`` over ``window``, restricted to the service where its series allow."""
        return render(query, window, self.selector(query))

    def figure_mixes(self, figure: Figure, by_name: Mapping[str, Figure]) -> bool:
        """A figure read over all services, or derived (total cost, ROI) from one that is."""
        if figure.query:
            return self.mixes(figure.query)
        parts = (*figure.sum_of, *(figure.ratio_of or ()))
        return any(self.figure_mixes(by_name[p], by_name) for p in parts if p in by_name)
