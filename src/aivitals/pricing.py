"""The price table: USD per million tokens per model, or per GPU-hour for self-hosted models.

A model missing from the table is counted as unpriced, never guessed. Dated
model versions (``gpt-4o-2024-08-06``, ``claude-3-5-haiku-20241022``) match
their undated entry; nothing else is inferred.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from typing import Any

from .usage import Usage

_DATED = re.compile(r"-(\d{4}-\d{2}-\d{2}|\d{8}|latest)$")
_FIELDS = {"provider", "input", "output", "cached_input", "cache_creation", "gpu_hour", "gpus"}
_PER_TOKEN = 1e-6


class PriceTableError(ValueError):
    """A price file that cannot be used; the message names the file, line and key."""


@dataclass(frozen=True)
class Price:
    """Prices of one model. Token prices are USD per million tokens."""

    provider: str = "other"
    input: float = 0.0
    output: float = 0.0
    cached_input: float | None = None
    cache_creation: float | None = None
    gpu_hour: float | None = None
    gpus: float = 1.0

    def token_cost(self, usage: Usage) -> tuple[float, float, float, float]:
        """(input, output, cached_input, cache_creation) cost in USD.

        Cached and cache-creation tokens are billed at their own price where
        the table has one, else at the input price (no discount assumed).
        """
        cached_price = self.input if self.cached_input is None else self.cached_input
        write_price = self.input if self.cache_creation is None else self.cache_creation
        plain = usage.input - usage.cached_input - usage.cache_creation
        return (
            plain * self.input * _PER_TOKEN,
            usage.output * self.output * _PER_TOKEN,
            usage.cached_input * cached_price * _PER_TOKEN,
            usage.cache_creation * write_price * _PER_TOKEN,
        )

    def gpu_cost(self, seconds: float) -> float:
        """Cost of ``seconds`` of wall time on this model's GPUs."""
        if self.gpu_hour is None:
            return 0.0
        return seconds * self.gpus * self.gpu_hour / 3600.0


class PriceTable:
    """Model name to Price, with dated-version matching."""

    def __init__(self, prices: dict[str, Price]) -> None:
        self._prices = dict(prices)

    def __len__(self) -> int:
        return len(self._prices)

    def get(self, model: str) -> Price | None:
        price = self._prices.get(model)
        if price is None:
            price = self._prices.get(_DATED.sub("", model))
        return price

    def merged(self, other: PriceTable) -> PriceTable:
        """This table with ``other``'s entries taking precedence."""
        return PriceTable({**self._prices, **other._prices})


def _line_of(text: str, needle: str, after: int = 0) -> int:
    index = text.find(needle, after)
    return text.count("\n", 0, index) + 1 if index >= 0 else 0


def _price(name: str, entry: Any, where: str, text: str) -> Price:
    import json

    model_at = text.find(json.dumps(name))

    def fail(key: str, why: str) -> PriceTableError:
        line = _line_of(text, json.dumps(key), max(model_at, 0)) if key else _line_of(text, json.dumps(name))
        return PriceTableError(f"{where}:{line}: model {name!r}: {why}")

    if not isinstance(entry, dict):
        raise fail("", "must be an object of prices")
    for key in entry:
        if key not in _FIELDS:
            raise fail(key, f"unknown key {key!r}; allowed: {', '.join(sorted(_FIELDS))}")
    values: dict[str, Any] = {}
    for key, value in entry.items():
        if key == "provider":
            if not isinstance(value, str):
                raise fail(key, "provider must be a string")
            values[key] = value
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            raise fail(key, f"{key} must be a non-negative number, got {value!r}")
        values[key] = float(value)
    if "gpu_hour" not in values and not ({"input", "output"} & values.keys()):
        raise fail("", "needs token prices (input, output) or gpu_hour")
    return Price(**values)


def parse(text: str, where: str) -> PriceTable:
    """Parse a price file's text; errors name ``where`` and the line."""
    import json

    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PriceTableError(f"{where}:{exc.lineno}: not valid JSON: {exc.msg}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("models"), dict):
        raise PriceTableError(f"{where}:1: expected an object with a 'models' object")
    if doc.get("version", 1) != 1:
        line = _line_of(text, '"version"')
        raise PriceTableError(f"{where}:{line}: unsupported version {doc.get('version')!r}")
    return PriceTable({name: _price(name, entry, where, text) for name, entry in doc["models"].items()})


def load(path: str | os.PathLike[str]) -> PriceTable:
    """Load a user's price file (same format as the shipped one)."""
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except OSError as exc:
        raise PriceTableError(f"{os.fspath(path)}: cannot read: {exc.strerror}") from None
    return parse(text, os.fspath(path))


def shipped() -> PriceTable:
    """The price table shipped with aivitals."""
    from importlib import resources

    text = resources.files("aivitals").joinpath("data/prices.json").read_text(encoding="utf-8")
    return parse(text, "aivitals/data/prices.json")
