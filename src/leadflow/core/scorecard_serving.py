"""A scorecard served: its bins arranged so that scoring a row costs a few dictionary lookups
instead of a test per bin (live scoring refreshes one lead per event). Gives exactly what
training's `scorecard.design` gives."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from leadflow.core import amounts
from leadflow.core.scorecard import Bin, counted, is_blank, numeric, words_of


class Compiled:
    """A scorecard's bins arranged for serving: each column's value and word bins in lookup
    tables, so a row costs a few dictionary lookups instead of a test per bin. `design` gives
    exactly what `design(bins, columns)` gives (live scoring refreshes one lead per event)."""

    def __init__(self, bins: Sequence[Bin]) -> None:
        self.size = len(bins)
        self.values: dict[str, dict[str, list[int]]] = {}
        self.words: dict[str, dict[str, list[int]]] = {}
        self.blanks: dict[str, list[int]] = {}
        self.counts: list[tuple[int, str, float]] = []
        ranges: dict[str, list[tuple[int, float | None, float | None]]] = {}
        for j, b in enumerate(bins):
            if b.value is not None or b.values:
                table = self.values.setdefault(b.column, {})
                for wanted in {
                    w.casefold() for w in ([b.value] if b.value is not None else b.values)
                }:
                    table.setdefault(wanted, []).append(j)
            elif b.word is not None:
                self.words.setdefault(b.column, {}).setdefault(b.word.lower(), []).append(j)
            elif b.blank:
                self.blanks.setdefault(b.column, []).append(j)
            elif b.cap is not None:
                self.counts.append((j, b.column, b.cap))
            else:
                ranges.setdefault(b.column, []).append((j, b.low, b.high))
        self.ranges = {column: _range_arrays(found) for column, found in ranges.items()}
        self.range_lists = ranges
        self.labels = [b.label() for b in bins]

    def design(self, columns: Mapping[str, Sequence[str | None]]) -> npt.NDArray[np.float64]:
        """Rows x bins: 1 where the row's value falls in the bin."""
        rows = len(next(iter(columns.values()))) if columns else 0
        if rows == 1:
            return self._one_row({column: values[0] for column, values in columns.items()})
        matrix = np.zeros((rows, self.size))
        for column, table in self.values.items():
            for r, v in enumerate(columns[column]):
                matrix[r, table.get((v or "").strip().casefold(), [])] = 1.0
        for column, table in self.words.items():
            for r, v in enumerate(columns[column]):
                for word in words_of(v):
                    matrix[r, table.get(word, [])] = 1.0
        for column, js in self.blanks.items():
            for r, v in enumerate(columns[column]):
                if is_blank(v):
                    matrix[r, js] = 1.0
        for j, column, cap in self.counts:
            matrix[:, j] = counted(columns[column], cap)
        for column, (js, lows, highs, has_low, has_high) in self.ranges.items():
            values = numeric(columns[column])
            if values is None:
                continue
            at = values[:, None]  # rows x this column's ranges, in one comparison each
            inside = ~np.isnan(at) & (~has_low | (at >= lows)) & (~has_high | (at < highs))
            matrix[:, js] = inside
        return matrix

    def _one_row(self, row: Mapping[str, str | None]) -> npt.NDArray[np.float64]:
        """`design` for one row (live scoring's case) in plain Python: no array per column.
        The same bins as `design` sets: a lone value is numeric when it parses as a float."""
        hit: list[int] = []
        for column, table in self.values.items():
            hit += table.get((row[column] or "").strip().casefold(), [])
        for column, table in self.words.items():
            for word in words_of(row[column]):
                hit += table.get(word, [])
        for column, js in self.blanks.items():
            if is_blank(row[column]):
                hit += js
        for column, found in self.range_lists.items():
            value = _lone_number(row[column])
            if value is None or math.isnan(value):
                continue
            hit += [
                j
                for j, low, high in found
                if (low is None or value >= low) and (high is None or value < high)
            ]
        matrix = np.zeros((1, self.size))
        matrix[0, hit] = 1.0
        for j, column, cap in self.counts:
            count = _lone_number(row[column])
            if count is not None and not math.isnan(count):
                matrix[0, j] = min(max(count, 0.0), cap)
        return matrix


def _lone_number(value: str | None) -> float | None:
    """A single value as `numeric` reads it: blank or not a number is None."""
    if value is None or not value.strip():
        return None
    return amounts.number(value)


RangeArrays = tuple[
    list[int], npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.bool_],
    npt.NDArray[np.bool_],
]  # fmt: skip


def _range_arrays(ranges: list[tuple[int, float | None, float | None]]) -> RangeArrays:
    """A column's ranges as arrays: bin indices, bounds (0 where open) and which are set."""
    lows = np.array([0.0 if low is None else low for _, low, _ in ranges])
    highs = np.array([0.0 if high is None else high for _, _, high in ranges])
    has_low = np.array([low is not None for _, low, _ in ranges])
    has_high = np.array([high is not None for _, _, high in ranges])
    return [j for j, _, _ in ranges], lows, highs, has_low, has_high
