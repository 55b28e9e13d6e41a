"""Sales-ready leads fallen through the cracks: a page of them, read as the driver's tuples,
and how many there are by problem.

There are tens of thousands of them at a million leads (every sales-ready lead nobody owns),
so only a page is read as rows (the database keeps the page's rows while it sorts, not all of
them) and the counts are counted in SQL: those nobody owns from the covering index alone,
those past their deadline through each owned lead's latest hand-off. The rows skip
SQLAlchemy's result processing and no datetime is made for them: the two times come as the
ISO text `UTCDateTime` values print (cut from SQLite's stored UTC text, or from the same text
PostgreSQL prints), the deadline also as exact epoch microseconds (`_bulk.epoch_micros`) for
the minutes late.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    String,
    and_,
    func,
    literal_column,
    or_,
    select,
    true,
    type_coerce,
)
from sqlalchemy.orm import Session

from leadflow.core.report_math import Cohort
from leadflow.models.assignment import Assignment
from leadflow.models.lead import Lead
from leadflow.repositories._bulk import big_read_cache, dialect_name, epoch_micros
from leadflow.repositories.report_sql import in_cohort

STORED = len("2026-11-29 02:30:00.000000")  # how SQLite stores a time (SQLAlchemy's format)


def fallen_through(
    session: Session,
    cohort: Cohort,
    sales_ready: Sequence[str],
    now: datetime,
    limit: int,
    offset: int = 0,
) -> Sequence[tuple[Any, ...]]:
    """The page [offset, offset + limit) of the sales-ready cohort leads with no owner, or
    whose latest hand-off is past its deadline untouched, by deadline then id: (id, email,
    stage, owner, since, team, sla_due_at, sla_due_at's epoch microseconds), the times as
    ISO-like text in UTC as stored (`iso_utc` prints them): the caller makes one object of
    each row, so there is no second pass over them here."""
    handed: Any = _latest_handoffs(session)
    query = (
        select(
            Lead.id, Lead.email, Lead.stage, Lead.owner, utc_text(session, Lead.stage_changed_at),
            handed.c.team, utc_text(session, handed.c.sla_due_at),
            epoch_micros(session, handed.c.sla_due_at),
        )
        .select_from(Lead)
        .where(
            in_cohort(cohort),
            Lead.stage.in_(list(sales_ready)),
            or_(Lead.owner.is_(None), _past_deadline(handed, now)),
        )
        .order_by(handed.c.sla_due_at, Lead.id)
        .limit(limit)
        .offset(offset)
    )  # fmt: skip
    # Every sales-ready lead's hand-off is still looked up and sorted (by the deadline), the
    # page's rows kept: a bigger cache for this read on SQLite (about 15% less CPU there).
    with (
        big_read_cache(session),
        session.connection().execute(_joined(session, query, handed)) as result,
    ):
        rows: Sequence[tuple[Any, ...]] = result.cursor.fetchall()
    return rows


def counts(
    session: Session, cohort: Cohort, sales_ready: Sequence[str], now: datetime
) -> tuple[int, int]:
    """(leads nobody owns, owned leads past their latest hand-off's deadline untouched) of the
    sales-ready cohort: the first from the leads alone (the covering `ix_leads_cracks` when the
    cohort is all leads), the second looking up only the owned leads' hand-offs."""
    handed: Any = _latest_handoffs(session)
    ready = and_(in_cohort(cohort), Lead.stage.in_(list(sales_ready)))
    nobody = select(func.count()).select_from(Lead).where(ready, Lead.owner.is_(None))
    late = select(func.count()).where(ready, Lead.owner.is_not(None), _past_deadline(handed, now))
    late = _joined(session, late.select_from(Lead), handed, inner=True)
    query = select(nobody.scalar_subquery(), late.scalar_subquery())
    unowned, overdue = session.connection().execute(query).one()
    return int(unowned), int(overdue)


def _past_deadline(handed: Any, now: datetime) -> ColumnElement[bool]:
    """The latest hand-off has a deadline, before `now`, and no touch."""
    return and_(
        handed.c.first_touch_at.is_(None),
        handed.c.sla_due_at.is_not(None),
        handed.c.sla_due_at < now,
    )


def _joined(session: Session, query: Any, handed: Any, inner: bool = False) -> Any:
    """The query over leads joined to each lead's latest hand-off (outer: a lead with none
    stays, unless `inner`)."""
    on = handed.c.id == _latest_id() if dialect_name(session) == "sqlite" else true()
    return query.join(handed, on, isouter=not inner)


def _latest_id() -> Any:
    """The id of the lead's latest hand-off, found by its own index: not the latest of every
    lead ever handed off, aggregated first and joined after."""
    return (
        select(func.max(Assignment.id))
        .where(Assignment.lead_id == Lead.id)
        .correlate(Lead)
        .scalar_subquery()
    )


def _latest_handoffs(session: Session) -> Any:
    """What the cracks read of the hand-offs: on SQLite the table (joined to each lead's
    latest by `_latest_id`), on PostgreSQL each lead's latest hand-off as a LATERAL
    subquery, one index probe per lead where the scalar subquery ran twice per lead (once for
    the hash join's key, once for its check)."""
    if dialect_name(session) == "sqlite":
        return Assignment.__table__
    return (
        select(Assignment.team, Assignment.sla_due_at, Assignment.first_touch_at)
        .where(Assignment.lead_id == Lead.id)
        .order_by(Assignment.id.desc())
        .limit(1)
        .lateral("latest")
    )


def utc_text(session: Session, column: Any) -> ColumnElement[str]:
    """A stored time as SQLite's stored text, `YYYY-MM-DD HH:MM:SS.ffffff` in UTC: SQLite's
    own (the driver gives it as stored), PostgreSQL's printed by it (no datetime made per row)."""
    if dialect_name(session) == "sqlite":
        return type_coerce(column, String)
    utc = func.timezone(literal_column("'UTC'"), column)
    return func.to_char(utc, literal_column("'YYYY-MM-DD HH24:MI:SS.US'"), type_=String)


def iso_utc(value: Any) -> str | None:
    """A stored time as the driver gives it, as `isoformat()` prints it read as `UTCDateTime`
    reads it (tz-aware UTC): SQLite's 'YYYY-MM-DD HH:MM:SS.ffffff' is UTC already, and its
    text is cut and pasted (the fraction only when not zero, as `isoformat` does)."""
    if value is None:
        return None
    if isinstance(value, str) and len(value) == STORED and value[19] == ".":
        fraction = "" if value.endswith(".000000") else value[19:]
        return f"{value[:10]}T{value[11:19]}{fraction}+00:00"
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    utc = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return utc.isoformat()
