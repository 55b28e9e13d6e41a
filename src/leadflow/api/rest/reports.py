"""Reports and the revenue plan over HTTP: the same services as `leadflow report` and `plan`."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from leadflow.api.deps import DbSession, Now, ReadSession, actor_of, require
from leadflow.api.rest.schemas import Offset, RowId
from leadflow.api.strict_body import StrictRoute
from leadflow.core.errors import Invalid, NotFound
from leadflow.core.limits import MAX_DAYS, MAX_MONTHS, MAX_REPORT_ROWS
from leadflow.core.plan import parse_rates
from leadflow.core.report_math import Cohort
from leadflow.core.roles import Permission
from leadflow.models.api_key import ApiKey
from leadflow.services import audit, digest, goals, playbooks
from leadflow.services import plan as plan_service
from leadflow.services import reports as report_service
from leadflow.services.reports.base import as_csv
from leadflow.services.reports.team import CRACKS_SHOWN

router = APIRouter(tags=["reports and plan"], route_class=StrictRoute)
Reader = Annotated[ApiKey, Depends(require(Permission.READ))]
PlaybookEditor = Annotated[ApiKey, Depends(require(Permission.PLAYBOOK))]
Admin = Annotated[ApiKey, Depends(require(Permission.ADMIN))]


def _midnight(day: date | None) -> datetime | None:
    return datetime.combine(day, time(), tzinfo=UTC) if day else None


@router.get("/reports", summary="The reports there are")
def list_reports(_: Reader) -> dict[str, str]:
    return report_service.REPORTS


@router.get("/reports/{name}", summary="One report, as JSON or CSV", response_model=None)
def report(
    name: str,
    session: ReadSession,
    now: Now,
    _: Reader,
    period: str | None = Query(None, description="2026-11, 2026-Q4 or 2026"),
    since: date | None = Query(None, description="Leads created from this day"),
    until: date | None = Query(None, description="Leads created before this day"),
    source: str | None = None,
    medium: str | None = None,
    campaign: str | None = None,
    persona: str | None = None,
    tier: str | None = None,
    by: str = Query("source", description="conversion: the dimension"),
    history: int = Query(6, ge=1, le=MAX_MONTHS, description="bottlenecks: months compared"),
    stale_days: int = Query(90, ge=1, le=MAX_DAYS, description="data_quality"),
    half_life_days: float = Query(
        7.0, gt=0, le=MAX_DAYS, description="attribution: the time-decay model's half-life"
    ),
    limit: int = Query(
        CRACKS_SHOWN, ge=0, le=MAX_REPORT_ROWS, description="cracks: how many rows to show"
    ),
    offset: Offset = 0,
    format: Literal["json", "csv"] = "json",
) -> dict[str, Any] | PlainTextResponse:
    """404 for an unknown report; 422 names a bad period or dimension. `digest` is the
    huddle's digest of the period (default: this month)."""
    if name == "digest":
        return digest.build(session, playbooks.active_playbook(session), period, now)
    if name not in report_service.REPORTS:
        raise NotFound(f"no report {name!r}; one of {', '.join(report_service.REPORTS)}")
    cohort = Cohort(_midnight(since), _midnight(until), source, medium, campaign, persona, tier)
    options = report_service.Options(period, by, history, stale_days, half_life_days, limit, offset)
    playbook = playbooks.active_playbook(session)
    result = report_service.run(session, playbook, name, cohort, options, now)
    if format == "csv":
        return PlainTextResponse(as_csv(result), media_type="text/csv")
    return result


def _request(
    goal: float, deal_size: float, period: str, rate: list[str], window: int, reps: int | None
) -> plan_service.PlanRequest:
    try:
        rates = parse_rates(rate)
    except ValueError as exc:
        raise Invalid(f"rate: {exc}") from None
    return plan_service.PlanRequest(
        goal, deal_size, period, rates, window, reps,
        rate_by_hand="the query parameter rate={stage}=R",
    )  # fmt: skip


@router.get("/plan", summary="The revenue goal worked backwards into every stage's target")
def plan(
    session: ReadSession,
    now: Now,
    _: Reader,
    goal: float = Query(..., gt=0),
    deal_size: float = Query(..., gt=0),
    period: str = Query("quarter", description="month, quarter, year, or 2026-Q4, 2026-11 ..."),
    rate: list[str] = Query([], description="STAGE=R, e.g. mql=0.4; repeatable"),
    window: int = Query(180, ge=1, le=MAX_DAYS, description="Days of history for measured rates"),
    reps: int | None = Query(None, ge=1),
) -> dict[str, Any]:
    return plan_service.build(session, _request(goal, deal_size, period, rate, window, reps), now)


@router.post("/plan/commit", summary="Make the plan's MQLs per month marketing's commitment")
def commit_plan(
    session: DbSession,
    now: Now,
    key: PlaybookEditor,
    goal: float = Query(..., gt=0),
    deal_size: float = Query(..., gt=0),
    period: str = Query("quarter"),
    rate: list[str] = Query([]),
    window: int = Query(180, ge=1, le=MAX_DAYS),
) -> dict[str, Any]:
    request = _request(goal, deal_size, period, rate, window, None)
    result = plan_service.build(session, request, now)
    per_month, version = plan_service.commit_mqls(session, result, author=key.name, now=now)
    return {"mql_commitment_per_month": per_month, "playbook_version": version, "plan": result}


class GoalIn(BaseModel):
    """A revenue goal (`revenue`) or a conversion goal (`conversion` FROM:TO and `rate`)."""

    name: str = Field(min_length=1, max_length=200)
    period: str = Field(description="2026-Q4, 2026-11 or 2026")
    revenue: float | None = Field(None, gt=0)
    conversion: str | None = Field(None, description="FROM:TO, e.g. lead:customer")
    rate: float | None = Field(None, gt=0, le=1)


class ChannelIn(BaseModel):
    """A shared Apprise channel: `wins`, or `digest` with a schedule like "mon 09:00"."""

    purpose: Literal["wins", "digest"]
    url: str = Field(min_length=1, max_length=2000)
    schedule: str | None = None
    timezone: str = "UTC"


@router.get("/goals", summary="Shared goals with their progress")
def list_goals(session: DbSession, now: Now, _: Reader) -> list[dict[str, Any]]:
    return goals.all_progress(session, now)


@router.post("/goals", status_code=201, summary="Add a shared goal")
def add_goal(body: GoalIn, session: DbSession, now: Now, caller: Admin) -> dict[str, Any]:
    goal = goals.add_goal(session, name=body.name, period=body.period, revenue=body.revenue,
                          conversion=body.conversion, rate=body.rate, now=now)  # fmt: skip
    audit.record(session, actor=actor_of(caller), action="goal.add", target=f"goal:{goal.id}",
                 details={"name": goal.name, "period": goal.period}, now=now)  # fmt: skip
    return goals.progress(session, goal, now)


@router.delete("/goals/{goal_id}", status_code=204, summary="Remove a goal")
def delete_goal(goal_id: RowId, session: DbSession, now: Now, caller: Admin) -> None:
    goals.delete_goal(session, goal_id)
    audit.record(session, actor=actor_of(caller), action="goal.delete", target=f"goal:{goal_id}",
                 now=now)  # fmt: skip


@router.post("/channels", status_code=201, summary="Add a shared channel (wins or digest)")
def add_channel(body: ChannelIn, session: DbSession, now: Now, caller: Admin) -> dict[str, Any]:
    channel = digest.add_channel(session, body.purpose, body.url, schedule=body.schedule,
                                 zone=body.timezone, now=now)  # fmt: skip
    details = {"purpose": channel.purpose, "url": channel.url, "schedule": channel.schedule}
    audit.record(session, actor=actor_of(caller), action="channel.add",  # the URL is redacted
                 target=f"channel:{channel.id}", details=details, now=now)  # fmt: skip
    return {"id": channel.id, "purpose": channel.purpose, "schedule": channel.schedule,
            "timezone": channel.timezone, "next_run_at": channel.next_run_at}  # fmt: skip
