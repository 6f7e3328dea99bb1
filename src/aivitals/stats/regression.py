"""Regression error, as scikit-learn computes it."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._checks import same_length, vector


def mse(y_true: Any, y_pred: Any) -> float:
    """Mean squared error (``sklearn.metrics.mean_squared_error``)."""
    t, p = vector(y_true, "y_true"), vector(y_pred, "y_pred")
    same_length(("y_true", t), ("y_pred", p))
    return float(np.mean((t - p) ** 2))


def mae(y_true: Any, y_pred: Any) -> float:
    """Mean absolute error (``sklearn.metrics.mean_absolute_error``)."""
    t, p = vector(y_true, "y_true"), vector(y_pred, "y_pred")
    same_length(("y_true", t), ("y_pred", p))
    return float(np.mean(np.abs(t - p)))
