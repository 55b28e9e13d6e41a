"""Shared goals: revenue, or a conversion rate between two stages, per period, with progress."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from leadflow.core import amounts
from leadflow.core.errors import Invalid, NotFound
from leadflow.core.periods import elapsed_share, parse_period
from leadflow.core.report_math import REPORT_FUNNEL, Cohort, Rate, reached_counts
from leadflow.core.stages import Stage
from leadflow.models.goal import Goal
from leadflow.repositories import goals as goal_repo
from leadflow.repositories import reports as queries

STAGES = [stage.value for stage in REPORT_FUNNEL]


def add_goal(
    session: Session,
    *,
    name: str,
    period: str,
    revenue: float | None = None,
    conversion: str | None = None,
    rate: float | None = None,
    now: datetime,
) -> Goal:
    """A revenue goal (`revenue`) or a conversion goal (`conversion` "lead:customer", `rate`)."""
    if not name.strip():
        raise Invalid("name: a goal needs a name")
    try:
        parse_period(period)
    except ValueError as exc:
        raise Invalid(f"period: {exc}") from None
    if (revenue is None) == (conversion is None):
        raise Invalid("give either a revenue target or a conversion (FROM:TO) with a rate")
    if revenue is not None:
        revenue = amounts.checked(revenue, "revenue", positive=True)
        return goal_repo.add(session, name=name.strip(), kind="revenue", period=period,
                             target=revenue, created_at=now)  # fmt: skip
    assert conversion is not None
    start, _, end = conversion.partition(":")
    if start not in STAGES or end not in STAGES or STAGES.index(start) >= STAGES.index(end):
        raise Invalid(
            f"conversion: {conversion!r} must be FROM:TO, two stages in funnel order "
            f"({', '.join(STAGES)}), e.g. lead:customer"
        )
    if rate is None or not 0 < rate <= 1:  # NaN fails this too
        raise Invalid("rate: a conversion goal needs a rate between 0 (excluded) and 1")
    return goal_repo.add(session, name=name.strip(), kind="conversion", period=period,
                         target=rate, from_stage=start, to_stage=end, created_at=now)  # fmt: skip


def progress(session: Session, goal: Goal, now: datetime) -> dict[str, Any]:
    """Where the goal stands: the actual figure, its share of the target, and pace."""
    start, end = parse_period(goal.period)
    elapsed = elapsed_share(start, end, now)
    base = {"id": goal.id, "name": goal.name, "kind": goal.kind, "period": goal.period,
            "target": goal.target, "elapsed": round(elapsed, 4)}  # fmt: skip
    if goal.kind == "revenue":
        amount, deals = goal_repo.won_revenue(session, start, end)
        return {**base, "actual": round(amount, 2), "deals": deals,
                "share_of_target": round(amount / goal.target, 4),
                "on_pace": amount >= goal.target * elapsed}  # fmt: skip
    by_rank: dict[int, int] = {}
    for _, rank, count, _ in queries.furthest_by(
        session, replace(Cohort(), since=start, until=end)
    ):
        by_rank[rank] = by_rank.get(rank, 0) + count
    reached = reached_counts(by_rank)
    assert goal.from_stage and goal.to_stage
    rate = Rate(reached[Stage(goal.to_stage)], reached[Stage(goal.from_stage)])
    return {**base, "from_stage": goal.from_stage, "to_stage": goal.to_stage,
            "actual": rate.value, "n": rate.n, "small_sample": rate.small_sample,
            "share_of_target": round(rate.value / goal.target, 4) if rate.value is not None
            else None,
            "on_pace": rate.value is not None and rate.value >= goal.target}  # fmt: skip


def all_progress(session: Session, now: datetime) -> list[dict[str, Any]]:
    """Every goal with its progress, newest period first."""
    return [progress(session, goal, now) for goal in goal_repo.list_all(session)]


def delete_goal(session: Session, goal_id: int) -> None:
    goal = goal_repo.get(session, goal_id)
    if goal is None:
        raise NotFound(f"no goal with id {goal_id}")
    session.delete(goal)
