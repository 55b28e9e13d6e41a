"""The revenue plan: a goal worked backwards into what each stage must deliver, with the rates
measured on our own history unless someone overrides them, paced against the period so far."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from leadflow.core import amounts
from leadflow.core import plan as plan_math
from leadflow.core.errors import Invalid
from leadflow.core.periods import current_period, elapsed_share, months_between, parse_period
from leadflow.core.playbook_edit import with_mql_commitment
from leadflow.core.report_math import Cohort, reached_counts, step_rates
from leadflow.core.stages import Stage
from leadflow.repositories import reports as queries
from leadflow.repositories import reps as rep_repo
from leadflow.services import playbooks
from leadflow.services.reports import snapshots


@dataclass(frozen=True, slots=True)
class PlanRequest:
    """What the plan is asked: the goal, the deal size, the period, and rates given by hand."""

    goal: float
    deal_size: float
    period: str = "quarter"  # month, quarter, year (the current one) or 2026-Q4, 2026-11, 2026
    rates: dict[str, float] = field(default_factory=dict)
    window_days: int = 180  # the history the measured rates come from
    reps: int | None = None  # sales reps sharing the sales stages (default: active reps)
    # How the asking interface takes a rate by hand, `{stage}` for the stage: the CLI's
    # "--rate {stage}=R", the API's query parameter, the page's Rates field.
    rate_by_hand: str = "a rate for {stage}"


def _period(text: str, now: datetime) -> tuple[str, datetime, datetime]:
    name = current_period(text, now) if text in ("month", "quarter", "year") else text
    try:
        start, end = parse_period(name)
    except ValueError as exc:
        raise Invalid(f"period: {exc}") from None
    return name, start, end


def measured_rates(
    session: Session, start: datetime, end: datetime, visits: int
) -> dict[str, tuple[int, int]]:
    """(hits, n) per plan step over leads created in [start, end); `visits` is the visitors
    with a page view then."""
    by_rank: dict[int, int] = {}
    for _, rank, count, _ in queries.furthest_by(session, Cohort(since=start, until=end)):
        by_rank[rank] = by_rank.get(rank, 0) + count
    reached = reached_counts(by_rank)
    rates = {stage.value: (rate.hits, rate.n) for stage, rate in step_rates(reached).items()}
    rates["visit"] = (reached[Stage.LEAD], visits)
    return rates


def build(session: Session, request: PlanRequest, now: datetime) -> dict[str, Any]:
    amounts.checked(request.goal, "goal", positive=True)
    amounts.checked(request.deal_size, "deal_size", positive=True)
    """The plan: per stage required, actual so far, rate and where it came from, per rep,
    pacing; plus the sensitivity of the goal to each rate."""
    name, start, end = _period(request.period, now)
    # The measured window starts at a midnight (UTC), like the period, so both windows'
    # visitors (the plan's costliest count) can come from the worker's snapshot.
    window_start = snapshots.midnight(now - timedelta(days=request.window_days))
    so_far = min(end, now)
    windows = [(window_start, now), (start, so_far)]
    (visits, visited), visits_as_of = snapshots.visitors(session, windows, now)
    measured = measured_rates(session, window_start, now, visits)
    rates: dict[str, float] = {}
    sources: dict[str, str] = {}
    for stage in plan_math.PLAN_STAGES[:-1]:
        hits, n = measured[stage]
        if stage in request.rates:
            rates[stage], sources[stage] = request.rates[stage], "given"
        elif n and 0 < hits <= n:
            rates[stage] = round(hits / n, 4)
            sources[stage] = f"measured: {hits} of {n} in the last {request.window_days} days"
        else:
            raise Invalid(_no_measured_rate(request, stage, hits, n))
    try:
        required = plan_math.required_counts(request.goal, request.deal_size, rates)
    except ValueError as exc:
        raise Invalid(str(exc)) from None
    actual = {"visit": visited, **queries.plan_actuals(session, start, so_far)}
    elapsed = elapsed_share(start, end, now)
    reps = request.reps or _routed_reps(session)
    steps = []
    for stage in plan_math.PLAN_STAGES:
        step = {
            "stage": stage,
            "required": required[stage],
            "actual": actual[stage],
            "rate": rates.get(stage),
            "rate_source": sources.get(stage),
            "rate_n": measured[stage][1] if stage in measured else None,
            "per_rep": (
                math.ceil(required[stage] / reps) if reps and stage in plan_math.SALES_STAGES
                else None
            ),
            **plan_math.pacing(actual[stage], required[stage], elapsed),
        }  # fmt: skip
        steps.append(step)
    return {
        "period": {"name": name, "start": start.isoformat(), "end": end.isoformat(),
                   "elapsed": round(elapsed, 4)},
        "goal": request.goal, "deal_size": request.deal_size, "reps": reps,
        "stages": steps,
        "sensitivity": plan_math.sensitivity(request.goal, request.deal_size, rates),
        # When the visitors were counted (the worker's snapshot); None: counted now.
        "visits_as_of": visits_as_of.isoformat() if visits_as_of else None,
    }  # fmt: skip


def _no_measured_rate(request: PlanRequest, stage: str, hits: int, n: int) -> str:
    """Why `stage` has no measured rate, and how to give one in the asking interface."""
    missing = f"no measured rate for {stage} in the last {request.window_days} days"
    how = request.rate_by_hand.format(stage=stage)
    if hits > n:  # leads that came without a tracked visit (imported, say)
        return (
            f"{missing}: {hits} leads came from {n} visitors with a page view, not a share "
            f"(leads also arrive without a tracked visit: imported, say); give {how}"
        )
    return f"{missing} ({hits} of {n}): give {how}"


def _routed_reps(session: Session) -> int:
    """Active reps on the teams (or named by the rules) that routing hands leads to."""
    routing = playbooks.active_playbook(session).routing
    teams = {rule.team for rule in routing.rules if rule.team} | {routing.fallback}
    named = {rule.rep.lower() for rule in routing.rules if rule.rep}
    reps = rep_repo.list_all(session)
    return sum(1 for r in reps if r.active and (r.team in teams or r.email in named))


def commit_mqls(
    session: Session, plan: dict[str, Any], *, author: str, now: datetime
) -> tuple[int, int]:
    """Write the plan's MQLs per month as marketing's SLA commitment (a new playbook version);
    (the commitment, the new version)."""
    start = datetime.fromisoformat(plan["period"]["start"])
    end = datetime.fromisoformat(plan["period"]["end"])
    months = months_between(start, end)  # a plan's period is whole months
    mqls = next(s["required"] for s in plan["stages"] if s["stage"] == "mql")
    per_month = math.ceil(mqls / months)
    text = with_mql_commitment(playbooks.active_version(session).content, per_month)
    version = playbooks.install(session, text, author=author, now=now)
    return per_month, version.version
