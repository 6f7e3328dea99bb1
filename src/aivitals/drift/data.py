"""Reading tabular data for profiles and offline drift: CSV with the standard library, Parquet with pyarrow.

Columns come back as lists of raw values; :func:`numeric_column` decides
whether a column is numeric. Empty cells (and Parquet nulls) are missing
values: skipped and counted, never guessed.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from pathlib import Path

Column = list[object]


class DataError(ValueError):
    """A data file cannot be read or holds values that cannot be profiled; the message says where."""


def read_columns(path: str | Path) -> dict[str, Column]:
    """The file's columns by name, in file order. ``.parquet``/``.pq`` need pyarrow; anything else is CSV."""
    file = Path(path)
    if not file.is_file():
        raise DataError(f"{file}: no such file")
    if file.suffix.lower() in (".parquet", ".pq"):
        return _read_parquet(file)
    return _read_csv(file)


def _read_csv(file: Path) -> dict[str, Column]:
    try:
        with file.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if not header:
                raise DataError(f"{file}: empty file, expected a header row")
            names = [name.strip() for name in header]
            if len(set(names)) != len(names) or "" in names:
                raise DataError(f"{file}: column names must be unique and non-empty")
            columns: dict[str, Column] = {name: [] for name in names}
            for line, row in enumerate(reader, start=2):
                if not row:
                    continue
                if len(row) != len(names):
                    raise DataError(f"{file}:{line}: {len(row)} fields, the header has {len(names)}")
                for name, cell in zip(names, row, strict=True):
                    cell = cell.strip()
                    columns[name].append(cell if cell else None)
    except UnicodeDecodeError as exc:
        raise DataError(f"{file}: not UTF-8 text ({exc.reason})") from None
    except csv.Error as exc:
        raise DataError(f"{file}: malformed CSV: {exc}") from None
    return columns


def _read_parquet(file: Path) -> dict[str, Column]:
    try:
        import pyarrow.parquet as pq  # optional: only Parquet needs it
    except ImportError:
        raise DataError(f"{file}: reading Parquet needs pyarrow (pip install pyarrow); or pass a CSV file") from None
    try:
        table = pq.read_table(file)
    except Exception as exc:  # pyarrow raises its own error types
        raise DataError(f"{file}: cannot read Parquet: {exc}") from None
    return {name: list(table.column(name).to_pylist()) for name in table.column_names}


def _as_number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def numeric_column(name: str, values: Sequence[object]) -> list[float] | None:
    """The column's non-missing values as floats, or None when any is not a number (a categorical column).

    Raises :class:`DataError` for NaN or infinite numbers: they cannot be binned honestly.
    """
    numbers: list[float] = []
    for row, value in enumerate(values):
        if value is None:
            continue
        number = _as_number(value)
        if number is None:
            return None
        if not math.isfinite(number):
            raise DataError(f"column {name!r}, row {row + 1}: {value!r} is not a finite number")
        numbers.append(number)
    return numbers


def category_column(values: Sequence[object]) -> list[str]:
    """The column's non-missing values as category strings."""
    return [value if isinstance(value, str) else str(value) for value in values if value is not None]
