"""Input checks shared by every statistic: one error type, messages that say what to fix.

Every function in :mod:`aivitals.stats` refuses input it cannot score honestly
(empty, non-numeric, NaN, infinite, mismatched lengths) instead of returning a
number that looks valid but is not.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


class StatsError(ValueError):
    """A statistic cannot be computed from the given input; the message says why."""


def vector(values: Any, name: str, *, min_size: int = 1) -> FloatArray:
    """``values`` as a finite 1-D float64 array, or :class:`StatsError`."""
    if isinstance(values, (str, bytes)):
        raise StatsError(f"{name} must be a sequence of numbers, not a string")
    try:
        array = np.asarray(values)
    except (TypeError, ValueError) as exc:
        raise StatsError(f"{name} must be a 1-D sequence of numbers: {exc}") from None
    if array.dtype.kind not in "biuf":
        raise StatsError(f"{name} must hold numbers, got dtype {array.dtype}")
    array = array.astype(np.float64, copy=False)
    if array.ndim != 1:
        raise StatsError(f"{name} must be 1-D, got shape {array.shape}")
    if array.size < min_size:
        raise StatsError(f"{name} needs at least {min_size} value(s), got {array.size}")
    if not np.all(np.isfinite(array)):
        raise StatsError(f"{name} contains NaN or infinite values")
    return array


def same_length(*pairs: tuple[str, FloatArray]) -> None:
    sizes = {name: array.size for name, array in pairs}
    if len(set(sizes.values())) > 1:
        raise StatsError(f"inputs differ in length: {sizes}")


def binary(values: Any, name: str) -> FloatArray:
    """A vector of 0/1 labels (bools accepted)."""
    array = vector(values, name)
    if not np.all((array == 0) | (array == 1)):
        raise StatsError(f"{name} must hold only 0 and 1 (or False and True)")
    return array


def probabilities(values: Any, name: str) -> FloatArray:
    array = vector(values, name)
    if np.any(array < 0) or np.any(array > 1):
        raise StatsError(f"{name} must lie in [0, 1]")
    return array


def counts(values: Any, name: str) -> FloatArray:
    """Non-negative counts (floats allowed: Prometheus increase() is fractional)."""
    array = vector(values, name)
    if np.any(array < 0):
        raise StatsError(f"{name} must be non-negative")
    return array


def labels(values: Sequence[object] | Any, name: str) -> NDArray[Any]:
    """Class labels of any hashable kind, as a 1-D array; NaN refused."""
    array = np.asarray(values)
    if array.ndim != 1 or array.size == 0:
        raise StatsError(f"{name} must be a non-empty 1-D sequence")
    if array.dtype.kind == "f" and not np.all(np.isfinite(array)):
        raise StatsError(f"{name} contains NaN or infinite values")
    if array.dtype.kind == "O" and any(v is None or (isinstance(v, float) and v != v) for v in array):
        raise StatsError(f"{name} contains missing values")
    return array
