"""The one gate every number and flag from user code passes before it enters an aggregate.

Counters must never decrease or become NaN, and nothing the caller passes may
raise into the caller: these checks raise ``InvalidInput`` inside aivitals, where
the recorder catches it and counts an SDK error instead of recording the value.
They use identity and type tests only, never ``bool()`` or ``==`` on the value,
so an object whose ``__bool__`` or ``__eq__`` raises (a NumPy array) is refused
rather than consulted.
"""

from __future__ import annotations

import math
from typing import Any

#: More tokens than any model's context holds in one call: a bug upstream, not usage.
MAX_TOKENS = 10**9


class InvalidInput(ValueError):
    """A value from user code that cannot enter an aggregate: counted, never raised to the caller."""


def count(value: Any) -> int:
    """A whole, non-negative, plausible count (tokens); None counts as 0."""
    if value is None:
        return 0
    kind = type(value)
    if kind is bool or not isinstance(value, (int, float)):
        raise InvalidInput("count is not a number")
    if isinstance(value, float):
        if not math.isfinite(value) or value != int(value):
            raise InvalidInput("count is not a finite whole number")
        value = int(value)
    value = int(value)  # an int subclass becomes a plain int: its own arithmetic never reaches a total
    if value < 0:
        raise InvalidInput("count is negative")
    if value > MAX_TOKENS:
        raise InvalidInput("count is implausibly large")
    return value


def amount(value: Any, upper: float) -> float:
    """A finite number in ``[0, upper)`` (dollars, seconds, a score's range bound)."""
    if type(value) is bool or not isinstance(value, (int, float)):
        raise InvalidInput("amount is not a number")
    number = float(value)
    if not 0.0 <= number < upper:  # NaN fails this too
        raise InvalidInput("amount is negative, not finite or out of range")
    return number


def fraction(value: Any) -> float:
    """A finite number in ``[0, 1]`` (a quality score)."""
    if type(value) is bool or not isinstance(value, (int, float)):
        raise InvalidInput("score is not a number")
    number = float(value)
    if not 0.0 <= number <= 1.0:
        raise InvalidInput("score is outside 0..1")
    return number


def flag(value: Any) -> bool:
    """A yes/no: ``True``, ``False``, the ints 0 and 1, or a NumPy boolean scalar.

    Anything else (None, strings such as ``"no"``, arrays, objects) is refused
    rather than guessed: ``bool("no")`` is True.
    """
    if value is True or value is False:
        return value
    kind = type(value)
    if kind is int and (value == 0 or value == 1):
        return value == 1
    if kind.__module__ == "numpy" and kind.__name__ in ("bool_", "bool"):
        return value.item() is True
    raise InvalidInput("not a boolean")


def duration(value: float) -> float:
    """A measured duration: negative (a clock that went back) or non-finite becomes 0."""
    return value if 0.0 <= value < math.inf else 0.0
