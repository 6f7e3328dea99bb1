"""The rule scenario's error-analysis inputs and their records worked out by hand (kept out of scenario.py's size).

Counters grow at an integer rate, so each ``increase`` is that integer x the
window and every sum of them is exact; one division is the only rounding, as
in Prometheus.
"""

from __future__ import annotations

from collections.abc import Callable

Labels = tuple[tuple[str, str], ...]
Expected = dict[Labels, float]

MODEL = {"model": "m1"}
#: group: confusion cells of its binary view (tp + tn are the scenario's GROUPS correct, fp + fn its wrong).
GROUP_CELLS = {"young": {"tp": 25, "fp": 5, "tn": 15, "fn": 5}, "old": {"tp": 15, "fp": 12, "tn": 15, "fn": 8}}
#: A model with declared classes: (predicted, actual) -> per second. bird is never right; other never actual.
CLASS_MODEL = {"model": "m2"}
CLASS_CELLS = {("cat", "cat"): 20, ("cat", "dog"): 5, ("dog", "dog"): 15, ("dog", "cat"): 3, ("bird", "dog"): 2,
               ("other", "bird"): 1}

#: (name, labels, per second) of each input counter.
INPUTS: list[tuple[str, dict[str, str], float]] = [
    *(("aivitals_group_confusion_total", {**MODEL, "attribute": "age", "group": g, "class_outcome": c}, n)
      for g, cells in GROUP_CELLS.items() for c, n in cells.items()),
    *(("aivitals_class_predictions_total", {**CLASS_MODEL, "predicted_class": p, "actual_class": a}, n)
      for (p, a), n in CLASS_CELLS.items()),
]


def _key(**labels: str) -> Labels:
    return tuple(sorted(labels.items()))


def per_class(axis: int, w: float) -> Expected:
    """Per-class precision (axis 0: by predicted class) or recall (1: by actual class): the diagonal cell over
    the class's cells; a class with no diagonal cell reads 0."""
    out: Expected = {}
    for c in sorted({cell[axis] for cell in CLASS_CELLS}):
        whole = float(sum(n * w for cell, n in CLASS_CELLS.items() if cell[axis] == c))
        right = float(CLASS_CELLS.get((c, c), 0) * w)
        out[_key(**CLASS_MODEL, **{"class": c})] = right / whole
    return out


def group_errors(w: float) -> Expected:
    return {_key(**MODEL, attribute="age", group=g, class_outcome=c): float(cells[c] * w)
            for g, cells in GROUP_CELLS.items() for c in ("fp", "fn")}


EXPECTED: dict[str, Callable[[float, float, dict[str, str]], Expected]] = {
    "model_class:aivitals_class_precision:ratio_increase": lambda w, t, sm: per_class(0, w),
    "model_class:aivitals_class_recall:ratio_increase": lambda w, t, sm: per_class(1, w),
    "group_outcome:aivitals_group_errors:increase": lambda w, t, sm: group_errors(w),
}
