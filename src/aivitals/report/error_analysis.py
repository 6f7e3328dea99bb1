"""Error analysis of the month: the confusion matrix over each model's declared classes, FP and FN by group.

Both are read from the sidecar's label join (aivitals_class_predictions_total,
aivitals_group_confusion_total), whose label values are bounded by its
settings. A model or group with no series is absent, never a row of zeros.
``--service`` restricts both where the catalogue gives them the service label;
until then they are read over all services and marked so (``all_services``).
Per class: false positives are the class's column less its diagonal cell
(predicted the class, was another), false negatives its row less the diagonal.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..catalogue import OTHER
from ..catalogue.figures import CLASS_MATRIX_QUERY, GROUP_ERRORS_QUERY
from .period import Month
from .query import Prometheus
from .scope import ServiceScope


@dataclass(frozen=True)
class Matrix:
    """``counts[actual][predicted]`` over ``classes`` (sorted, ``other`` last)."""

    classes: tuple[str, ...]
    counts: tuple[tuple[float, ...], ...]

    def false_positives(self, i: int) -> float:
        return sum(row[i] for row in self.counts) - self.counts[i][i]

    def false_negatives(self, i: int) -> float:
        return sum(self.counts[i]) - self.counts[i][i]

    def as_json(self) -> dict[str, object]:
        return {"classes": list(self.classes), "counts": [list(row) for row in self.counts],
                "false_positives": {c: self.false_positives(i) for i, c in enumerate(self.classes)},
                "false_negatives": {c: self.false_negatives(i) for i, c in enumerate(self.classes)}}


@dataclass(frozen=True)
class GroupErrors:
    model: str
    attribute: str
    group: str
    false_positives: float
    false_negatives: float
    previous_false_positives: float | None = None
    previous_false_negatives: float | None = None

    def as_json(self) -> dict[str, object]:
        return {"model": self.model, "attribute": self.attribute, "group": self.group,
                "false_positives": self.false_positives, "false_negatives": self.false_negatives,
                "previous_false_positives": self.previous_false_positives,
                "previous_false_negatives": self.previous_false_negatives}


@dataclass(frozen=True)
class ErrorAnalysis:
    matrices: dict[str, Matrix]
    groups: tuple[GroupErrors, ...]
    #: A service was chosen but these series carry no service label: the tables are every service's.
    all_services: bool = False

    def as_json(self) -> dict[str, object]:
        out: dict[str, object] = {"all_services": True} if self.all_services else {}
        if self.matrices:
            out["confusion_matrices"] = {model: m.as_json() for model, m in self.matrices.items()}
        if self.groups:
            out["by_group"] = [g.as_json() for g in self.groups]
        return out


def _class_order(name: str) -> tuple[bool, str]:
    return (name == OTHER, name)


def matrices(cells: list[tuple[dict[str, str], float]]) -> dict[str, Matrix]:
    """One matrix per model from (labels, count) cells; classes are those seen as predicted or actual."""
    by_model: dict[str, dict[tuple[str, str], float]] = {}
    for labels, count in cells:
        cells_of = by_model.setdefault(labels.get("model", ""), {})
        key = (labels.get("actual_class", OTHER), labels.get("predicted_class", OTHER))
        cells_of[key] = cells_of.get(key, 0.0) + count
    out = {}
    for model, counts in sorted(by_model.items()):
        classes = tuple(sorted({c for pair in counts for c in pair}, key=_class_order))
        out[model] = Matrix(classes, tuple(tuple(counts.get((a, p), 0.0) for p in classes) for a in classes))
    return out


def group_errors(cells: list[tuple[dict[str, str], float]]) -> dict[tuple[str, str, str], tuple[float, float]]:
    """(model, attribute, group) -> (false positives, false negatives); a missing cell of a present group is 0."""
    out: dict[tuple[str, str, str], tuple[float, float]] = {}
    for labels, count in cells:
        key = (labels.get("model", ""), labels.get("attribute", ""), labels.get("group", ""))
        fp, fn = out.get(key, (0.0, 0.0))
        out[key] = (fp + count, fn) if labels.get("class_outcome") == "fp" else (fp, fn + count)
    return out


def read(prometheus: Prometheus, month: Month, previous: Month | None,
         scope: ServiceScope | None = None) -> ErrorAnalysis | None:
    """The month's error analysis (and last month's FP/FN by group); None when the store has neither series."""
    scope = scope or ServiceScope()
    found = matrices(prometheus.vector(scope.render(CLASS_MATRIX_QUERY, month.window), month.end))
    now = group_errors(prometheus.vector(scope.render(GROUP_ERRORS_QUERY, month.window), month.end))
    before = (group_errors(prometheus.vector(scope.render(GROUP_ERRORS_QUERY, previous.window), previous.end))
              if previous is not None else {})
    groups = tuple(GroupErrors(*key, *now[key], *before.get(key, (None, None))) for key in sorted(now))
    if not found and not groups:
        return None
    mixed = (found and scope.mixes(CLASS_MATRIX_QUERY)) or (groups and scope.mixes(GROUP_ERRORS_QUERY))
    return ErrorAnalysis(found, groups, bool(mixed))


def restricted(scope: ServiceScope) -> bool:
    """Whether both tables are read for the chosen service alone."""
    return scope.restricts(CLASS_MATRIX_QUERY) and scope.restricts(GROUP_ERRORS_QUERY)
