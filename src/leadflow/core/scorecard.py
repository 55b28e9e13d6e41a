"""A scorecard: attributes binned into readable conditions, each with points. Pure NumPy.

Numeric columns are cut at quantiles into a few ranges; text columns keep their frequent values.
Each bin becomes a one-hot feature; a regularised logistic regression (fitted elsewhere) gives
each bin a weight, and the weights become points a person can read and argue with.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

BINS = 5  # ranges per numeric column
# Points that double the odds of conversion: the scale of every point in the proposal.
POINTS_TO_DOUBLE_ODDS = 10.0


@dataclass(frozen=True, slots=True)
class Bin:
    """One condition on one column: a numeric range [low, high) or a text value."""

    column: str
    low: float | None = None
    high: float | None = None
    value: str | None = None

    def label(self) -> str:
        if self.value is not None:
            return f"{self.column} is {self.value}"
        if self.low is None:
            return f"{self.column} below {self.high:g}"
        if self.high is None:
            return f"{self.column} {self.low:g} or more"
        return f"{self.column} {self.low:g} to {self.high:g}"


def numeric(values: Sequence[str | None]) -> npt.NDArray[np.float64] | None:
    """The column as floats (blank: NaN) when nearly all its values are numbers, else None."""
    out = np.full(len(values), np.nan)
    filled = bad = 0
    for k, value in enumerate(values):
        if value is None or not value.strip():
            continue
        filled += 1
        try:
            out[k] = float(value.replace(",", ""))
        except ValueError:
            bad += 1
    return out if filled and bad <= 0.05 * filled else None


def numeric_bins(column: str, values: npt.NDArray[np.float64]) -> list[Bin]:
    """Quantile ranges of the known values (fewer when values repeat)."""
    known = values[~np.isnan(values)]
    if known.size == 0:
        return []
    edges = np.unique(np.quantile(known, np.linspace(0, 1, BINS + 1)[1:-1]))
    cuts = [float(e) for e in edges]
    if not cuts:
        return []
    bounds = [None, *cuts, None]
    return [Bin(column, low=bounds[k], high=bounds[k + 1]) for k in range(len(bounds) - 1)]


def text_bins(column: str, values: Sequence[str | None], min_support: int) -> list[Bin]:
    """The column's values seen at least `min_support` times."""
    counts = Counter(v.strip() for v in values if v and v.strip())
    return [Bin(column, value=value) for value, n in counts.most_common() if n >= min_support]


def design(
    bins: Sequence[Bin], columns: Mapping[str, Sequence[str | None]]
) -> npt.NDArray[np.float64]:
    """Rows x bins: 1 where the row's value falls in the bin."""
    rows = len(next(iter(columns.values()))) if columns else 0
    matrix = np.zeros((rows, len(bins)))
    parsed: dict[str, npt.NDArray[np.float64] | None] = {}
    for j, b in enumerate(bins):
        raw = columns[b.column]
        if b.value is not None:
            matrix[:, j] = [1.0 if (v or "").strip() == b.value else 0.0 for v in raw]
            continue
        if b.column not in parsed:
            parsed[b.column] = numeric(raw)
        values = parsed[b.column]
        if values is None:
            continue
        inside = ~np.isnan(values)
        if b.low is not None:
            inside &= values >= b.low
        if b.high is not None:
            inside &= values < b.high
        matrix[:, j] = inside
    return matrix


def points(weights: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Logistic weights (log-odds) as points: POINTS_TO_DOUBLE_ODDS per doubling of the odds,
    rounded to whole points (negative for values that make conversion less likely)."""
    scaled: npt.NDArray[np.float64] = np.round(weights * POINTS_TO_DOUBLE_ODDS / np.log(2.0))
    return scaled


def share_for_precision(
    scores: npt.NDArray[np.float64], outcome: npt.NDArray[np.int64], precision: float
) -> float | None:
    """The largest share of leads, taken best score first, whose conversion is still at least
    `precision`; None when not even the best lead alone reaches it."""
    order = np.argsort(-scores, kind="mergesort")
    hits = np.cumsum(outcome[order])
    rates = hits / np.arange(1, scores.size + 1)
    good = np.flatnonzero(rates >= precision)
    return float((good[-1] + 1) / scores.size) if good.size else None


def bins_for(
    columns: Mapping[str, Sequence[str | None]], rows: npt.NDArray[np.int64], min_support: int
) -> list[Bin]:
    """The bins of every column, learned from `rows` only (numeric ranges, or frequent text
    values seen at least `min_support` times there)."""
    found: list[Bin] = []
    for name, values in columns.items():
        subset = [values[k] for k in rows]
        parsed = numeric(subset)
        found += (numeric_bins(name, parsed) if parsed is not None
                  else text_bins(name, subset, min_support))  # fmt: skip
    return found


def condition(field: str, b: Bin) -> dict[str, object]:
    """A playbook condition on `field` that holds exactly when a value falls in the bin."""
    if b.value is not None:
        return {"field": field, "equals": b.value}
    if b.low is None:
        return {"field": field, "lt": b.high}
    if b.high is None:
        return {"field": field, "gte": b.low}
    return {"all": [{"field": field, "gte": b.low}, {"field": field, "lt": b.high}]}


def slug(text: str) -> str:
    """A rule id from a label."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:60] or "rule"


def grade_cutoffs(scores: npt.NDArray[np.float64], names: tuple[str, str, str]) -> dict[str, float]:
    """Cut-offs at the top 10%, 30% and 60% of scores, each strictly below the one before."""
    cuts: list[float] = []
    for q in (0.9, 0.7, 0.4):
        value = float(np.round(np.quantile(scores, q), 1)) if scores.size else 0.0
        cuts.append(min(value, cuts[-1] - 0.1) if cuts else value)
    return {name: round(cut, 1) for name, cut in zip(names, cuts, strict=True)}
