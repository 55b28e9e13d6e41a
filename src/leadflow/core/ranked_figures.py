"""A column's rounded mean and percentiles from what a sorted index gives cheaply (a sum, a
count and a few values at known ranks), equal to what NumPy gives over the whole column.

Velocity's days in a stage are hundreds of thousands of values at a million leads; bringing
each to Python costs more than everything else. The database sums them and reads the few
ranks the percentiles interpolate between; this turns that into the very figures
`round(float(values.mean()), 2)` and `report_math.percentiles(values)` give.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from leadflow.core.report_math import percentiles

UNIT = 2.0**-53  # the unit roundoff of a float64
QUANTILES = (0.5, 0.9)  # what report_math.percentiles asks NumPy for
# Ranks either side of q * (n - 1): NumPy computes that position in floats, so its floor may
# differ from ours by one where the product is near a whole number.
REACH = 2


def rounded_mean(total: float, magnitude: float, n: int) -> float | None:
    """`round(mean, 2)` as NumPy's mean of the n values rounds it, summed in whatever order,
    from their sum in some order (`total`) and the sum of their magnitudes; None where the
    two sums' rounding errors could put the means on either side of a hundredth's rounding
    boundary (then only the values in their own order can say).

    Any order of n - 1 float additions errs by at most (n - 1) u / (1 - (n - 1) u) times the
    sum of magnitudes (u the unit roundoff): NumPy's pairwise sum and the database's sum
    both, and each division by n adds u. The slack below is over twice that, plus the error
    of the magnitude's own sum, so every mean either sum could give lies inside it.
    """
    if n <= 0 or not (math.isfinite(total) and math.isfinite(magnitude)):
        return None
    mean = total / n
    bound = magnitude * (1.0 + 4.0 * n * UNIT) / n
    slack = (3.0 * n + 8.0) * UNIT * bound
    low, high = round(mean - slack, 2), round(mean + slack, 2)
    return low if low == high else None


def needed_ranks(n: int) -> list[int]:
    """The ranks (0-based, ascending) whose values `percentiles_at` needs for n values."""
    ranks: set[int] = set()
    for quantile in QUANTILES:
        middle = math.floor(quantile * (n - 1))
        ranks.update(range(max(middle - REACH, 0), min(middle + REACH + 2, n)))
    return sorted(ranks)


def percentiles_at(n: int, known: Mapping[int, float]) -> dict[str, float | None]:
    """`report_math.percentiles` of n values known only at `needed_ranks(n)` (the sorted
    values there). NumPy itself computes it, over n values sorted like the real ones and
    equal to them at those ranks, which are the only ones its interpolation reads."""
    if n == 0:
        return percentiles([])
    ranks = sorted(known)
    values = np.empty(n, dtype=np.float64)
    values[: ranks[0]] = known[ranks[0]]
    for rank, following in zip(ranks, [*ranks[1:], n], strict=True):
        values[rank:following] = known[rank]  # up to the next known rank: still sorted
    return percentiles(values)
