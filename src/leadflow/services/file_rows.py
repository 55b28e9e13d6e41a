"""Rows of a file (CSV, JSON Lines, a workbook's sheet) as every reader makes them: a bad row
is a `RowError` in its place, and what every format must refuse (a value under a column
without a header, two columns read as one field that differ) is said the same way."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from leadflow.core.errors import Invalid

Row = tuple[int, dict[str, Any]]


class RowError(Invalid):
    """A row that cannot be read, with its line number."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.reason = message


Entry = tuple[int, dict[str, Any] | RowError]  # a row, or why the row at that line is bad
Naming = Callable[[str], str]


def unnamed(names: list[str], values: list[Any], label: Callable[[int], str]) -> str | None:
    """What is wrong when a value sits in a column whose header is blank (`label(k)` names
    column k, counted from 1), else None: such a value would otherwise be dropped unseen."""
    for k, (name, value) in enumerate(zip(names, values, strict=False), start=1):
        if not name and value is not None:
            return no_header(label(k), value)
    return None


def no_header(column: str, value: Any) -> str:
    return f"a value in column {column}, which has no header ({shown(value)})"


def shown(value: Any) -> str:
    text = str(value)
    return repr(text if len(text) <= 40 else f"{text[:40]}...")


def twins(names: list[str]) -> list[list[int]]:
    """The positions (from 0) of each field that several columns are read as (`email` and
    `Email Address`, or one header written twice)."""
    where: dict[str, list[int]] = {}
    for k, name in enumerate(names):
        if name:
            where.setdefault(name, []).append(k)
    return [found for found in where.values() if len(found) > 1]


def clash(
    names: list[str], values: list[Any], twins: list[list[int]], label: Callable[[int], str]
) -> str | None:
    """What is wrong when columns read as one field hold different values, else None: the
    row would keep one of them and drop the other unseen. The same value twice, or one of
    them missing, is no clash."""
    for positions in twins:
        given = [(k, values[k]) for k in positions if k < len(values) and values[k] is not None]
        for k, value in given[1:]:
            first, kept = given[0]
            if value != kept:
                return (f"columns {label(first + 1)} and {label(k + 1)} are both {names[k]}, "
                        f"and differ ({shown(kept)}, {shown(value)})")  # fmt: skip
    return None


def row_of(names: list[str], values: list[Any]) -> dict[str, Any]:
    """Name -> value, leaving out missing values (so a required field says it is required)."""
    return {n: v for n, v in zip(names, values, strict=False) if v is not None and n}
