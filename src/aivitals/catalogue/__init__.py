"""The single source of truth: every metric, label, threshold and query aivitals knows.

Rules, dashboards, docs and the Helm chart are generated from this package.
The catalogue validates itself when it is first loaded (the first access to
any name below); ``values`` (label values, buckets) loads without it, so the
SDK's ``import aivitals`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .checks import CatalogueError, validate
    from .derived import DERIVED
    from .figures import FIGURES, FIGURES_BY_NAME
    from .labels import CALL_LABELS, LABELS
    from .metrics import METRICS, METRICS_BY_NAME
    from .schema import (
        Area,
        BurnWindow,
        Comparison,
        Dashboard,
        Derived,
        Figure,
        Format,
        Label,
        Metric,
        MetricType,
        Section,
        Severity,
        Slo,
        Source,
        Threshold,
        Tile,
        Unit,
        Vital,
    )
    from .slos import BURN_WINDOWS, SLO_WINDOWS, SLOS
    from .values import OTHER
    from .vitals import VITALS, VITALS_BY_ID

__all__ = [
    "BURN_WINDOWS",
    "CALL_LABELS",
    "DERIVED",
    "FIGURES",
    "FIGURES_BY_NAME",
    "LABELS",
    "METRICS",
    "METRICS_BY_NAME",
    "OTHER",
    "SLOS",
    "SLO_WINDOWS",
    "VITALS",
    "VITALS_BY_ID",
    "Area",
    "BurnWindow",
    "CatalogueError",
    "Comparison",
    "Dashboard",
    "Derived",
    "Figure",
    "Format",
    "Label",
    "Metric",
    "MetricType",
    "Section",
    "Severity",
    "Slo",
    "Source",
    "Threshold",
    "Tile",
    "Unit",
    "Vital",
    "validate",
]

_SCHEMA = ("Area", "BurnWindow", "Comparison", "Dashboard", "Derived", "Figure", "Format", "Label", "Metric",
           "MetricType", "Section", "Severity", "Slo", "Source", "Threshold", "Tile", "Unit", "Vital")
_HOME = {
    "CALL_LABELS": "labels", "LABELS": "labels", "METRICS": "metrics", "METRICS_BY_NAME": "metrics",
    "OTHER": "values", "VITALS": "vitals", "VITALS_BY_ID": "vitals", "DERIVED": "derived",
    "FIGURES": "figures", "FIGURES_BY_NAME": "figures",
    "SLOS": "slos", "SLO_WINDOWS": "slos", "BURN_WINDOWS": "slos",
    "CatalogueError": "checks", "validate": "checks",
    **{name: "schema" for name in _SCHEMA},
}
_loaded = False


def _load() -> None:
    global _loaded
    if not _loaded:
        from .checks import validate
        from .derived import DERIVED
        from .figures import FIGURES
        from .metrics import METRICS
        from .vitals import VITALS

        validate(METRICS, VITALS, DERIVED, FIGURES)
        _loaded = True


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'aivitals.catalogue' has no attribute {name!r}")
    _load()
    value = getattr(importlib.import_module(f".{home}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
