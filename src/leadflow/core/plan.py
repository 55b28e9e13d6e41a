"""The revenue plan, worked backwards: from a goal and a deal size, through the conversion rate
of each step, to the visits marketing must bring. Pure arithmetic on exact fractions, so that
100 customers at a 20% rate needs 500 opportunities, not 501 from a rounding error."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

# `rates[stage]` is the share of `stage` that reaches the next one.
PLAN_STAGES: tuple[str, ...] = ("visit", "lead", "mql", "sql", "opportunity", "customer")
SALES_STAGES = frozenset({"sql", "opportunity", "customer"})


@dataclass(frozen=True, slots=True)
class PlanStep:
    """One stage of the plan."""

    stage: str
    required: int
    rate: float | None  # to the next stage; None for customer
    actual: int | None = None
    per_rep: int | None = None


def exact(value: float | str) -> Fraction:
    """A rate as the decimal a person typed (0.2 is 1/5, not 0.2000000000000000111)."""
    return Fraction(str(value))


def parse_rates(items: list[str]) -> dict[str, float]:
    """`["mql=0.4", ...]` as {stage: rate}; ValueError names the bad item."""
    rates: dict[str, float] = {}
    for item in items:
        stage, sep, text = item.partition("=")
        stage = stage.strip().lower()
        if not sep or stage not in PLAN_STAGES[:-1]:
            raise ValueError(
                f"{item!r}: expected STAGE=RATE with STAGE one of {', '.join(PLAN_STAGES[:-1])}"
            )
        try:
            rate = float(text)
        except ValueError:
            raise ValueError(f"{item!r}: the rate must be a number, e.g. {stage}=0.25") from None
        if not is_share(rate):
            raise ValueError(f"{item!r}: {NOT_A_SHARE}")
        rates[stage] = rate
    return rates


NOT_A_SHARE = "a rate is a share between 0 (excluded) and 1"


def is_share(rate: float) -> bool:
    """A rate the plan can work with: a share of a stage, more than none, at most all."""
    return 0 < rate <= 1  # False for NaN


def checked(goal: float, deal_size: float, rates: Mapping[str, float]) -> None:
    """ValueError unless the goal and deal size are positive and finite and every step has a
    share for its rate: a rate over 1 would make one more point of it a lower rate."""
    if not (0 < goal < math.inf and 0 < deal_size < math.inf):
        raise ValueError("the goal and the deal size must be positive")
    for stage in PLAN_STAGES[:-1]:
        if stage not in rates:
            raise ValueError(f"{stage}: no rate")
        if not is_share(rates[stage]):
            raise ValueError(f"{stage}: {NOT_A_SHARE}, not {rates[stage]!r}")


def required_counts(goal: float, deal_size: float, rates: Mapping[str, float]) -> dict[str, int]:
    """How many of each stage the goal needs, each rounded up to a whole number."""
    checked(goal, deal_size, rates)
    customers = math.ceil(exact(goal) / exact(deal_size))
    needed: dict[str, int] = {"customer": customers}
    exact_need = Fraction(customers)
    for stage in reversed(PLAN_STAGES[:-1]):
        exact_need /= exact(rates[stage])
        needed[stage] = math.ceil(exact_need)
    return {stage: needed[stage] for stage in PLAN_STAGES}


def sensitivity(
    goal: float, deal_size: float, rates: Mapping[str, float]
) -> list[dict[str, float | int | str]]:
    """What one point (0.01) more conversion at each step is worth: the revenue the planned
    visits would then bring above the goal, and how many fewer visits the goal would need."""
    required = required_counts(goal, deal_size, rates)
    visits = required["visit"]
    rows: list[dict[str, float | int | str]] = []
    for stage in PLAN_STAGES[:-1]:
        better = {**rates, stage: min(1.0, rates[stage] + 0.01)}
        through = math.prod(exact(better[s]) for s in PLAN_STAGES[:-1])
        revenue = float(visits * through * exact(deal_size))
        fewer = visits - required_counts(goal, deal_size, better)["visit"]
        rows.append(
            {
                "stage": stage,
                "rate": rates[stage],
                "plus_one_point": better[stage],
                "extra_revenue": round(revenue - goal, 2),
                "fewer_visits_needed": fewer,
            }
        )
    return rows


def pacing(actual: int, required: int, elapsed: float) -> dict[str, float | int | bool | None]:
    """Actual to date against the share of the target due by now, and the straight-line
    projection to the end of the period. `elapsed` is the share of the period gone (0-1)."""
    due = required * elapsed
    projected = actual / elapsed if elapsed > 0 else None
    return {
        "due_by_now": round(due, 1),
        "projected": round(projected, 1) if projected is not None else None,
        "on_pace": actual >= due,
    }
