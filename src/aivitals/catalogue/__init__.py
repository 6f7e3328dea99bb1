"""The single source of truth: every metric, label, threshold and query aivitals knows.

Rules, dashboards, docs and the Helm chart are generated from this package.
It validates itself at import.
"""

from __future__ import annotations

from .derived import DERIVED
from .labels import CALL_LABELS, LABELS, OTHER
from .metrics import METRICS, METRICS_BY_NAME
from .schema import (
    Area,
    BurnWindow,
    Comparison,
    Dashboard,
    Derived,
    Label,
    Metric,
    MetricType,
    Severity,
    Slo,
    Source,
    Threshold,
    Tile,
    Unit,
    Vital,
)
from .slos import BURN_WINDOWS, SLO_WINDOWS, SLOS
from .validate import CatalogueError, validate
from .vitals import VITALS, VITALS_BY_ID

validate(METRICS, VITALS, DERIVED)

__all__ = [
    "BURN_WINDOWS",
    "CALL_LABELS",
    "DERIVED",
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
    "Label",
    "Metric",
    "MetricType",
    "Severity",
    "Slo",
    "Source",
    "Threshold",
    "Tile",
    "Unit",
    "Vital",
    "validate",
]
