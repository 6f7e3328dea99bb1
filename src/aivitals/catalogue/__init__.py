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
    from .boards import BOARDS, BOARDS_BY_DASHBOARD, TOTALS
    from .checks import CatalogueError, validate
    from .derived import DERIVED, SERIES_COUNT
    from .drift import DRIFT, FEATURE_PSI
    from .figures import FIGURES, FIGURES_BY_NAME
    from .labels import CALL_LABELS, LABELS
    from .metrics import METRICS, METRICS_BY_NAME
    from .schema import (
        Area,
        Board,
        BurnWindow,
        Comparison,
        Dashboard,
        Derived,
        Figure,
        Format,
        Label,
        Metric,
        MetricType,
        Record,
        Replicas,
        Section,
        Severity,
        Slo,
        Source,
        TargetAlert,
        Threshold,
        Tile,
        Total,
        Unit,
        Vital,
    )
    from .slos import BURN_WINDOWS, SLO_WINDOWS, SLOS
    from .targets import TARGET_ALERTS
    from .values import OTHER
    from .vitals import VITALS, VITALS_BY_ID

__all__ = [
    "BOARDS",
    "BOARDS_BY_DASHBOARD",
    "BURN_WINDOWS",
    "CALL_LABELS",
    "DERIVED",
    "DRIFT",
    "FEATURE_PSI",
    "FIGURES",
    "FIGURES_BY_NAME",
    "LABELS",
    "METRICS",
    "METRICS_BY_NAME",
    "OTHER",
    "SERIES_COUNT",
    "SLOS",
    "SLO_WINDOWS",
    "TARGET_ALERTS",
    "TOTALS",
    "VITALS",
    "VITALS_BY_ID",
    "Area",
    "Board",
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
    "Record",
    "Replicas",
    "Section",
    "Severity",
    "Slo",
    "Source",
    "TargetAlert",
    "Threshold",
    "Tile",
    "Total",
    "Unit",
    "Vital",
    "validate",
]

_SCHEMA = ("Area", "Board", "BurnWindow", "Comparison", "Dashboard", "Derived", "Figure", "Format", "Label",
           "Metric", "MetricType", "Record", "Replicas", "Section", "Severity", "Slo", "Source", "TargetAlert",
           "Threshold", "Tile", "Total", "Unit", "Vital")
_HOME = {
    "CALL_LABELS": "labels", "LABELS": "labels", "METRICS": "metrics", "METRICS_BY_NAME": "metrics",
    "OTHER": "values", "VITALS": "vitals", "VITALS_BY_ID": "vitals", "DERIVED": "derived",
    "SERIES_COUNT": "derived", "DRIFT": "drift", "FEATURE_PSI": "drift", "TARGET_ALERTS": "targets",
    "BOARDS": "boards", "BOARDS_BY_DASHBOARD": "boards", "TOTALS": "boards",
    "FIGURES": "figures", "FIGURES_BY_NAME": "figures",
    "SLOS": "slos", "SLO_WINDOWS": "slos", "BURN_WINDOWS": "slos",
    "CatalogueError": "checks", "validate": "checks",
    **{name: "schema" for name in _SCHEMA},
}
_loaded = False


def _load() -> None:
    global _loaded
    if not _loaded:
        from .boards import BOARDS, TOTALS
        from .checks import validate
        from .derived import DERIVED
        from .drift import DRIFT
        from .figures import FIGURES
        from .metrics import METRICS
        from .targets import TARGET_ALERTS
        from .vitals import VITALS

        validate(METRICS, VITALS, DERIVED, FIGURES, boards=BOARDS, totals=TOTALS, targets=TARGET_ALERTS,
                 drift=DRIFT)
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
