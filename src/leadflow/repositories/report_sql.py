"""SQL pieces the report queries share: the cohort filter, stage ranks, and the few
expressions SQLite and PostgreSQL spell differently."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Float, and_, case, cast, func, select, true
from sqlalchemy.orm import Session

from leadflow.core.report_math import Cohort
from leadflow.core.stages import FUNNEL
from leadflow.models.account import Account
from leadflow.models.event import Event
from leadflow.models.lead import Lead


def in_cohort(cohort: Cohort) -> ColumnElement[bool]:
    """The WHERE clause on `leads` (joined to `accounts` when a tier is asked for)."""
    parts: list[ColumnElement[bool]] = []
    if cohort.since is not None:
        parts.append(Lead.created_at >= cohort.since)
    if cohort.until is not None:
        parts.append(Lead.created_at < cohort.until)
    for column, value in (
        (Lead.source, cohort.source),
        (Lead.medium, cohort.medium),
        (Lead.campaign, cohort.campaign),
        (Lead.persona, cohort.persona),
    ):
        if value is not None:
            parts.append(column == value)
    if cohort.tier is not None:
        tiered = select(Account.id).where(Account.tier == cohort.tier)
        parts.append(Lead.account_id.in_(tiered))
    return and_(true(), *parts)


def of_cohort(lead_id: Any, cohort: Cohort) -> ColumnElement[bool]:
    """`lead_id` belongs to a cohort lead (always true for everyone: no 1M-id IN list)."""
    if cohort.is_everyone:
        return true()
    return lead_id.in_(select(Lead.id).where(in_cohort(cohort)))  # type: ignore[no-any-return]


def rank_of(stage: ColumnElement[str] | Any) -> ColumnElement[int]:
    """A stage's funnel rank; nurture and disqualified are -1."""
    return case({s.value: k for k, s in enumerate(FUNNEL)}, value=stage, else_=-1)


def furthest_rank(session: Session) -> ColumnElement[int]:
    """The furthest funnel rank each lead ever reached: its current stage's, or the furthest
    it was in before (`reached_rank`, kept on every move), whichever is greater."""
    current = rank_of(Lead.stage)
    if session.get_bind().dialect.name == "postgresql":
        return func.greatest(current, Lead.reached_rank)
    return func.max(current, Lead.reached_rank)  # SQLite's two-argument max is the scalar greatest


def seconds_between(session: Session, later: Any, earlier: Any) -> ColumnElement[float]:
    """`later - earlier` in seconds."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.extract("epoch", later - earlier), Float)
    return cast((func.julianday(later) - func.julianday(earlier)) * 86400.0, Float)


def month_of(session: Session, moment: Any) -> ColumnElement[str]:
    """`YYYY-MM` of a timestamp (UTC)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(moment, "YYYY-MM")
    # Stored as sortable UTC text (see day_of): its first seven characters. strftime parsed
    # every one of a million dates to say the same, a fifth of the funnel's time.
    return func.substr(moment, 1, 7)


def day_of(session: Session, moment: Any) -> ColumnElement[str]:
    """`YYYY-MM-DD` of a timestamp (UTC)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", moment), "YYYY-MM-DD")
    return func.substr(moment, 1, 10)  # stored as sortable UTC text: its first ten characters


def event_campaign() -> ColumnElement[str | None]:
    """The campaign an event came from (filled in when stored, see events.with_lookups)."""
    return Event.campaign.expression


def won_amount() -> ColumnElement[float]:
    """A lead's revenue: its amount when won, else 0."""
    return case((Lead.outcome == "won", func.coalesce(Lead.outcome_amount, 0.0)), else_=0.0)


def score_band(width: int = 20) -> ColumnElement[int]:
    """The lower edge of the lead's total-score band (0-19 -> 0, 20-39 -> 20, ...)."""
    return cast(func.floor(Lead.total / width) * width, Float)
