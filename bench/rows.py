"""COPY text from numpy columns, a chunk at a time (so a million rows never sit in memory as text)."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

NULL = "\\N"
#: rows formatted and sent per COPY call
CHUNK = 50_000

Column = Callable[[slice], Sequence[str]]


@dataclass
class Table:
    """A table to COPY: its name, row count and a formatter per column."""

    name: str
    rows: int
    columns: dict[str, Column]

    def chunks(self, size: int = CHUNK):
        """Yield COPY text for `size` rows at a time."""
        for start in range(0, self.rows, size):
            part = slice(start, min(start + size, self.rows))
            cols = [fmt(part) for fmt in self.columns.values()]
            yield "\n".join(map("\t".join, zip(*cols, strict=True))) + "\n"

    def copy(self, cursor) -> None:
        sql = f"COPY {self.name} ({', '.join(self.columns)}) FROM STDIN"
        for text in self.chunks():
            cursor.copy_expert(sql, io.StringIO(text))


def _masked(values, mask, part: slice):
    if mask is None:
        return values
    return np.where(mask[part], NULL, values)


def ints(a: np.ndarray, null: np.ndarray | None = None) -> Column:
    """Integers; `null` marks rows written as NULL (or a negative value does, with null=True)."""
    return lambda part: _masked(a[part].astype(str), null, part)


def ids(a: np.ndarray) -> Column:
    """Foreign keys where -1 means none."""
    return lambda part: _masked(a[part].astype(str), a < 0, part)


def floats(a: np.ndarray, digits: int = 1, null: np.ndarray | None = None) -> Column:
    return lambda part: _masked(np.round(a[part], digits).astype(str), null, part)


def bools(a: np.ndarray) -> Column:
    return lambda part: np.where(a[part], "t", "f")


def texts(values: Sequence[str | None] | np.ndarray) -> Column:
    """Strings (None is NULL); they must hold no tab, newline or backslash."""
    return lambda part: [NULL if v is None else v for v in values[part]]


def const(value: str) -> Column:
    return lambda part: [value] * (part.stop - part.start)


def points(x: np.ndarray, y: np.ndarray, null: np.ndarray | None = None) -> Column:
    """EWKT points in EPSG:4326 (7 decimals, about 1 cm)."""

    def fmt(part: slice):
        text = [
            f"SRID=4326;POINT({a:.7f} {b:.7f})"
            for a, b in zip(x[part].tolist(), y[part].tolist(), strict=True)
        ]
        return _masked(np.array(text, dtype=object), null, part)

    return fmt


def instants(seconds: np.ndarray, null: np.ndarray | None = None) -> Column:
    """timestamptz from seconds since the Unix epoch (UTC)."""

    def fmt(part: slice):
        text = np.datetime_as_string(seconds[part].astype("datetime64[s]"), unit="s")
        return _masked(np.char.add(text, "+00"), null, part)

    return fmt


def dates(days: np.ndarray, null: np.ndarray | None = None) -> Column:
    """date from days since the Unix epoch."""

    def fmt(part: slice):
        return _masked(np.datetime_as_string(days[part].astype("datetime64[D]")), null, part)

    return fmt
