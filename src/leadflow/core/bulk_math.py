"""Exact rounding for bulk scoring: NumPy speed, the per-lead core's results to the bit.

The core rounds with Python's `round(x, 2)` (the exact binary value, ties to even) and sums
with `math.fsum` (exactly rounded). NumPy's `round` multiplies by 100 first and its sums
accumulate error, so each vectorized result is checked: a sum is known to within an error
bound, and where that interval straddles a hundredth the few rows are redone by the core.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from leadflow.core.bulk_columns import BoolArray, FloatArray, IntArray, floats
from leadflow.core.scoring import PRECISION, points_sum

UNIT = 2.0**-52  # twice the unit roundoff of float64: a safety factor of two on every bound


def round_points(values: FloatArray) -> FloatArray:
    """`round(x, 2) + 0.0` of every element, as Python computes it."""
    with np.errstate(over="ignore"):
        scaled = values * 100.0
    rounded = np.rint(scaled)
    result: FloatArray = rounded / 100.0 + 0.0
    # x * 100 is itself rounded, so it can only mislead within a hair of a half: redo those.
    hair = np.maximum(np.abs(scaled) * 1e-12, 1e-9)
    with np.errstate(invalid="ignore"):
        near_half = np.abs(np.abs(scaled - rounded) - 0.5) <= hair
    unsure = np.flatnonzero(near_half | (np.isinf(scaled) & np.isfinite(values)))
    for i in unsure.tolist():
        result[i] = round(float(values[i]), PRECISION) + 0.0
    return result


def settle(
    sums: FloatArray,
    bound: FloatArray,
    exact: Callable[[IntArray], FloatArray],
    cap: float | None = None,
) -> FloatArray:
    """Rounded (and capped) sums whose error is below `bound`; `exact` redoes the unsure rows.

    Clipping and rounding never decrease, so when both ends of [sum - bound, sum + bound]
    give the same hundredth, so does the exact sum.
    """
    low, high = sums - bound, sums + bound
    if cap is not None:
        low, high = np.clip(low, -cap, cap), np.clip(high, -cap, cap)
    result, upper = round_points(low), round_points(high)
    unsure = np.flatnonzero(result != upper)
    if len(unsure):
        result[unsure] = exact(unsure)
    return result


def row_sums(*blocks: FloatArray) -> FloatArray:
    """`points_sum` of each row across these column blocks."""
    matrix = np.hstack(blocks) if len(blocks) > 1 else blocks[0]
    sums = matrix.sum(axis=1)
    bound = (matrix.shape[1] + 2) * UNIT * np.abs(matrix).sum(axis=1)

    def exact(rows: IntArray) -> FloatArray:
        return np.array([points_sum(matrix[r].tolist()) for r in rows.tolist()])

    return settle(sums, bound, exact)


def group_sums(groups: IntArray, values: FloatArray, size: int) -> FloatArray:
    """`points_sum` of the values in each group 0..size-1."""
    sums = floats(np.bincount(groups, weights=values, minlength=size))
    counts = np.bincount(groups, minlength=size)
    bound = floats((counts + 2) * UNIT * np.bincount(groups, np.abs(values), minlength=size))

    def exact(rows: IntArray) -> FloatArray:
        wanted: BoolArray = np.isin(groups, rows)
        members: dict[int, list[float]] = {}
        for group, value in zip(groups[wanted].tolist(), values[wanted].tolist(), strict=True):
            members.setdefault(group, []).append(value)
        return np.array([points_sum(members.get(r, [])) for r in rows.tolist()])

    return settle(sums, bound, exact)
