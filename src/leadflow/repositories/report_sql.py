"""SQL pieces the report queries share: the cohort filter, stage ranks, and the few
expressions SQLite and PostgreSQL spell differently."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Float, and_, cast, func, literal_column, select, true
from sqlalchemy.orm import Session

from leadflow.core.report_math import Cohort
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


# Sales' own entries (touches, notes): not something a lead did or consumed.
SALES_EVENT_SOURCES = ("sales", "note")


def seconds_between(session: Session, later: Any, earlier: Any) -> ColumnElement[float]:
    """`later - earlier` in seconds."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.extract("epoch", later - earlier), Float)
    return cast((func.julianday(later) - func.julianday(earlier)) * 86400.0, Float)


def indexed_seconds(session: Session, later: Any, earlier: Any) -> ColumnElement[float]:
    """`later - earlier` in seconds as `seconds_between`; on SQLite the expression of
    migration 0033's indexes word for word (86400.0 a literal: a bound one would not match
    them), which SQLite then reads from such an index instead of parsing two dates per row."""
    if session.get_bind().dialect.name != "sqlite":
        return seconds_between(session, later, earlier)
    days = func.julianday(later) - func.julianday(earlier)
    return cast(days * literal_column("86400.0"), Float)


def month_start(moment: Any) -> ColumnElement[Any]:
    """PostgreSQL: the first instant of a timestamp's month in UTC (a timestamp without time
    zone), with literals: the expression of `ix_leads_funnel_months_pg` (migration 0035) word
    for word, which PostgreSQL may index (`to_char` and a timestamp in the session's time zone
    it may not) and then groups in that index's order."""
    utc = func.timezone(literal_column("'UTC'"), moment)
    return func.date_trunc(literal_column("'month'"), utc)


def month_of(session: Session, moment: Any) -> ColumnElement[str]:
    """`YYYY-MM` of a timestamp (UTC)."""
    if session.get_bind().dialect.name == "postgresql":
        # Grouped by `month_start` (see funnel_counts), this is one `to_char` per group.
        return func.to_char(month_start(moment), literal_column("'YYYY-MM'"))
    # Stored as sortable UTC text (see day_of): its first seven characters. strftime parsed
    # every one of a million dates to say the same, a fifth of the funnel's time. Literal
    # bounds, not parameters: ix_leads_funnel_months is on this very expression.
    return func.substr(moment, literal_column("1"), literal_column("7"))


def day_of(session: Session, moment: Any) -> ColumnElement[str]:
    """`YYYY-MM-DD` of a timestamp (UTC)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", moment), "YYYY-MM-DD")
    return func.substr(moment, 1, 10)  # stored as sortable UTC text: its first ten characters


def event_campaign() -> ColumnElement[str | None]:
    """The campaign an event came from (filled in when stored, see events.with_lookups)."""
    return Event.campaign.expression


def score_band() -> ColumnElement[int]:
    """The lower edge of the lead's total-score band (0-19.99 -> 0, 20-39.99 -> 20, ...), as
    stored with the total (`core.scoring.score_band`)."""
    return cast(Lead.score_band, Float)
