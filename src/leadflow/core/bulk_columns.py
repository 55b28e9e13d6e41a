"""Columns for bulk scoring: dictionary encoding, and conditions evaluated per distinct value.

A condition reads a few fact paths; a million leads hold far fewer distinct combinations of
those values. Each combination is evaluated once by the core's own `evaluate` and the answer
is gathered back to every row, so bulk results follow the per-lead semantics exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

from leadflow.core.conditions import Condition, evaluate

IntArray: TypeAlias = npt.NDArray[np.int64]
FloatArray: TypeAlias = npt.NDArray[np.float64]
BoolArray: TypeAlias = npt.NDArray[np.bool_]
ObjectArray: TypeAlias = npt.NDArray[np.object_]


@dataclass(frozen=True, slots=True)
class Coded:
    """A dictionary-encoded column: row i holds `values[codes[i]]` (None: missing)."""

    codes: IntArray
    values: Sequence[Any]


Column: TypeAlias = Coded | npt.NDArray[Any]
"""A column of fact values: an array (object arrays hold the values as the core sees them;
NaN in a float array means missing) or an already encoded column."""


def floats(values: Any) -> FloatArray:
    """Values as a float64 array (typed for mypy where NumPy's stubs are loose)."""
    return np.asarray(values, dtype=np.float64)


def _typed_key(value: Any) -> Hashable:
    """A key that keeps apart what the core tells apart: 1, 1.0, True and '1'; 0.0 and -0.0."""
    if isinstance(value, float):
        return (float, repr(value))
    try:
        hash(value)
    except TypeError:
        return (type(value), repr(value))
    return (type(value), value)


class Encoder:
    """Dictionary-encodes values, chunk after chunk, into one shared code space.

    `text=True` promises only str and None (e.g. a text column read from SQL), which skips
    the type check that otherwise keeps 1, 1.0 and True apart.
    """

    def __init__(self, *, text: bool = False) -> None:
        self.values: list[Any] = []
        self._codes: dict[Hashable, int] = {}
        self._typed = False
        self._text = text

    def encode(self, values: Sequence[Any]) -> IntArray:
        """Codes for these values, adding new ones to `values`."""
        if not self._typed and (self._text or _plain(values)):
            try:  # most chunks bring no new value: one pass
                return self._plain_codes(values)
            except KeyError:
                for value in set(values) - self._codes.keys():
                    self._codes[value] = len(self.values)
                    self.values.append(value)
                return self._plain_codes(values)
        if not self._typed:  # mixed types from here on: re-key what is known so far
            self._codes = {_typed_key(v): i for i, v in enumerate(self.values)}
            self._typed = True
        return np.fromiter(map(self._code, values), np.int64, count=len(values))

    def _plain_codes(self, values: Sequence[Any]) -> IntArray:
        return np.fromiter(map(self._codes.__getitem__, values), np.int64, count=len(values))

    def _code(self, value: Any) -> int:
        key = _typed_key(value)
        code = self._codes.get(key)
        if code is None:
            code = self._codes[key] = len(self.values)
            self.values.append(value)
        return code

    def coded(self, codes: IntArray) -> Coded:
        """The column for codes this encoder produced."""
        return Coded(codes, self.values)


_PLAIN = (str, int, type(None))  # types whose values never collide as dict keys: no bool


def _plain(values: Sequence[Any]) -> bool:
    """True when plain dict keys are safe: only text, whole numbers and None (no bool)."""
    return set(map(type, values)) <= set(_PLAIN)


def encode(column: Column) -> Coded:
    """The column dictionary-encoded."""
    if isinstance(column, Coded):
        return column
    if column.dtype.kind in "biuf":
        uniques, inverse = np.unique(column, return_inverse=True)
        values = [None if v != v else v for v in uniques.tolist()]  # NaN: missing
        return Coded(inverse.astype(np.int64).reshape(-1), values)
    encoder = Encoder()
    return encoder.coded(encoder.encode(column.tolist()))


def combine(columns: Sequence[Coded], size: int) -> tuple[IntArray, IntArray]:
    """For each row the id of its combination of values, and one row holding each combination."""
    key = np.zeros(size, np.int64)
    span = 1
    for column in columns:
        width = max(len(column.values), 1)
        if span * width >= 2**62:  # keep the mixed-radix key inside int64
            key, first = _distinct(key, span)
            span = len(first)
        key = key * width + column.codes
        span *= width
    return _distinct(key, span)


def _distinct(key: IntArray, span: int) -> tuple[IntArray, IntArray]:
    if span <= 4 * len(key) + 4096:  # a dense table beats sorting
        seen = np.zeros(span, np.bool_)
        seen[key] = True
        renumber = np.cumsum(seen, dtype=np.int64) - 1
        holder = np.zeros(span, np.int64)
        holder[key] = np.arange(len(key), dtype=np.int64)  # any row of each key will do
        return renumber[key], holder[seen]
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    return inverse.astype(np.int64).reshape(-1), first.astype(np.int64)


def index_of(ids: IntArray) -> Callable[[IntArray], IntArray]:
    """A lookup from ids to their rows in the sorted, distinct `ids` (-1 when absent)."""
    if not len(ids):
        return lambda wanted: np.full(len(wanted), -1, np.int64)
    low, high = int(ids[0]), int(ids[-1])
    if high - low > 4 * len(ids) + 1024:  # sparse ids: binary search

        def search(wanted: IntArray) -> IntArray:
            spot = np.searchsorted(ids, wanted)
            spot[spot >= len(ids)] = 0
            return np.where(ids[spot] == wanted, spot, -1).astype(np.int64)

        return search
    table = np.full(high - low + 2, -1, np.int64)  # the last slot answers "absent"
    table[ids - low] = np.arange(len(ids), dtype=np.int64)

    def look_up(wanted: IntArray) -> IntArray:
        offset = wanted - low
        offset[(offset < 0) | (offset > high - low)] = high - low + 1
        return table[offset]

    return look_up


class FactTable:
    """Fact columns by dotted path, answering conditions once per distinct combination."""

    def __init__(self, columns: Mapping[str, Column], size: int) -> None:
        self.size = size
        self._raw = columns
        self._coded: dict[str, Coded] = {}
        self._groups: dict[tuple[str, ...], tuple[IntArray, list[dict[str, Any]]]] = {}

    def column(self, path: str) -> Coded:
        """The encoded column of one path."""
        if path not in self._coded:
            if path not in self._raw:
                raise KeyError(f"no column for fact path {path!r}")
            coded = encode(self._raw[path])
            if len(coded.codes) != self.size:
                raise ValueError(f"column {path!r} has {len(coded.codes)} rows, not {self.size}")
            self._coded[path] = coded
        return self._coded[path]

    def groups(self, paths: Iterable[str]) -> tuple[IntArray, list[dict[str, Any]]]:
        """Each row's combination id, and each combination as flat facts {path: value}."""
        names = tuple(sorted(set(paths)))
        if names not in self._groups:
            columns = [self.column(p) for p in names]
            if len(columns) == 1:  # one column: its codes are the combinations
                ids, rows = columns[0].codes, None
                facts = [{names[0]: v} for v in columns[0].values]
            else:
                ids, rows = combine(columns, self.size)
                facts = [
                    {p: c.values[c.codes[r]] for p, c in zip(names, columns, strict=True)}
                    for r in rows
                ]
            self._groups[names] = (ids, facts)
        return self._groups[names]

    def compute(self, paths: Iterable[str], function: Callable[[dict[str, Any]], Any]) -> Any:
        """`function` of each row's facts, called once per distinct combination (an array)."""
        ids, facts = self.groups(paths)
        table = np.array([function(f) for f in facts] or [0])
        return table[ids] if self.size else table[:0]

    def test(self, condition: Condition) -> BoolArray:
        """Where the condition holds."""
        held: BoolArray = self.compute(condition.fields(), lambda f: evaluate(condition, f))
        return held.astype(np.bool_)

    def holds(self, condition: Condition) -> BoolArray:
        """Where the condition holds, each leaf tested once per distinct value of its field
        and the leaves combined as `evaluate` combines them: for conditions on fields of many
        distinct combinations (scores), where `test` would evaluate nearly once per row."""
        if condition.all_ is not None:
            every = np.ones(self.size, np.bool_)
            for child in condition.all_:
                every &= self.holds(child)
            return every
        if condition.any_ is not None:
            some = np.zeros(self.size, np.bool_)
            for child in condition.any_:
                some |= self.holds(child)
            return some
        if condition.not_ is not None:
            return ~self.holds(condition.not_)
        return self.test(condition)
