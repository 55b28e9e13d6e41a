"""How a boosted model reads a lead: each column becomes one feature. Pure.

Numeric columns stay numbers (blank: missing). Text columns become categories LightGBM splits
natively: the values seen at least `MIN_SUPPORT` times where the model was fitted (at most
`MAX_VALUES`, most frequent first) keep their own code, any other value shares one more code
("another value"), and a blank is missing. The encoding is stored with the model, so serving
reads a lead exactly as training did.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from leadflow.core import amounts, scorecard

MIN_SUPPORT = 5
MAX_VALUES = 250


def specs_for(
    columns: Mapping[str, Sequence[str | None]], rows: npt.NDArray[np.int64]
) -> list[dict[str, Any]]:
    """One feature per column, learned from `rows` only."""
    specs: list[dict[str, Any]] = []
    for name, values in columns.items():
        subset = [values[k] for k in rows]
        if scorecard.numeric(subset) is not None:
            specs.append({"column": name, "numeric": True})
            continue
        counts = Counter(v.strip() for v in subset if v and v.strip())
        kept = [v for v, n in counts.most_common(MAX_VALUES) if n >= MIN_SUPPORT]
        specs.append({"column": name, "values": kept})
    return specs


def categorical(specs: Sequence[Mapping[str, Any]]) -> list[int]:
    """The positions of the text features."""
    return [k for k, s in enumerate(specs) if not s.get("numeric")]


def _number(value: str | None) -> float:
    if value is None or not value.strip():
        return float("nan")
    number = amounts.number(value)
    return float("nan") if number is None else number


class Encoder:
    """Rows x features as the trees read them (NaN where a value is missing), with each text
    feature's value codes built once: a model serving one lead at a time encodes one row
    per event, and rebuilding the codes cost more than encoding."""

    def __init__(self, specs: Sequence[Mapping[str, Any]]) -> None:
        self.specs = list(specs)
        self.codes: list[dict[str, int] | None] = [
            None if s.get("numeric") else {v: k for k, v in enumerate(s["values"])}
            for s in self.specs
        ]

    def encode(self, columns: Mapping[str, Sequence[str | None]]) -> npt.NDArray[np.float64]:
        rows = len(next(iter(columns.values()))) if columns else 0
        matrix = np.full((rows, len(self.specs)), np.nan)
        for j, (spec, codes) in enumerate(zip(self.specs, self.codes, strict=True)):
            raw = columns.get(spec["column"], [None] * rows)
            if codes is None:
                matrix[:, j] = [_number(v) for v in raw]
                continue
            other = float(len(codes))
            matrix[:, j] = [
                np.nan if v is None or not v.strip() else codes.get(v.strip(), other) for v in raw
            ]
        return matrix


def encode(
    specs: Sequence[Mapping[str, Any]], columns: Mapping[str, Sequence[str | None]]
) -> npt.NDArray[np.float64]:
    """Rows x features, NaN where a value is missing (see `Encoder` to encode many times)."""
    return Encoder(specs).encode(columns)


def label(spec: Mapping[str, Any], value: str | None) -> str:
    """What a contribution is about, as a person reads it: `title is COO`."""
    column = str(spec["column"])
    if value is None or not value.strip():
        return f"{column} unknown"
    shown = value.strip()
    if not spec.get("numeric") and shown not in spec["values"]:
        return f"{column} is a rare value"
    return f"{column} is {shown}"
