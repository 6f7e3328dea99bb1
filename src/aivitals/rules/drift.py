"""The hook the drift statistics plug into.

``aivitals.drift.promql`` (another package, written in parallel) provides
``recording_rules() -> list[dict]`` with ``record`` and ``expr`` keys, among
them ``model_feature:aivitals_feature_psi:1d``, which the catalogue's drift
vitals read. Until that module exists no drift rules are generated, and the
drift alerts stay silent instead of failing.

Other providers can be appended to ``PROVIDERS``: each is a function returning
rules in the same shape.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

RuleDict = dict[str, str]


def _drift_promql() -> list[RuleDict]:
    try:
        module = importlib.import_module("aivitals.drift.promql")
    except ModuleNotFoundError as exc:
        if exc.name not in ("aivitals.drift", "aivitals.drift.promql"):
            raise
        return []
    return list(module.recording_rules())


#: Functions that return extra recording rules (``record`` and ``expr``), evaluated in order.
PROVIDERS: list[Callable[[], list[RuleDict]]] = [_drift_promql]


def drift_rules() -> list[RuleDict]:
    """Every rule the providers give, checked for the two keys a recording rule needs."""
    rules: list[RuleDict] = []
    for provider in PROVIDERS:
        for rule in provider():
            if set(rule) - {"record", "expr", "labels"} or not {"record", "expr"} <= set(rule):
                raise ValueError(f"{provider.__name__}: a drift rule needs record and expr, got {sorted(rule)}")
            rules.append({"record": rule["record"], "expr": rule["expr"]})
    return rules
