"""Money amounts a person types (deal amounts, goals, deal sizes): finite and within bounds."""

from __future__ import annotations

import math

from leadflow.core.errors import Invalid

# A trillion: above any deal, goal or budget, and far enough below 2**53 that sums of millions
# of them stay exact to the cent.
MAX_AMOUNT = 1_000_000_000_000.0
MIN_POSITIVE = 0.01  # a cent: below it a deal size makes the plan's division explode


def checked(value: float, where: str, *, positive: bool = False) -> float:
    """The amount, or Invalid naming `where` unless it is finite, >= 0 (> a cent) and bounded."""
    if not math.isfinite(value):
        raise Invalid(f"{where}: {value} is not a number an amount can be", [(where, "not finite")])
    reason = None
    if positive and value <= 0:
        reason = "must be positive"
    elif value < 0:
        reason = "must not be negative"
    elif positive and value < MIN_POSITIVE:
        reason = f"must be at least {MIN_POSITIVE:g}"
    elif value > MAX_AMOUNT:
        reason = f"must be at most {MAX_AMOUNT:,.0f}"
    if reason is not None:
        raise Invalid(f"{where}: {reason}", [(where, reason)])
    return value
