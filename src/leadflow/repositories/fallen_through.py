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

import heapq
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from typing import Any

from sqlalchemy import (
    ColumnElement,
    String,
    and_,
    func,
    literal_column,
    select,
    true,
    type_coerce,
)
from sqlalchemy.orm import Session

from leadflow.core.limits import MAX_DB_INT
from leadflow.core.report_math import Cohort
from leadflow.models.assignment import Assignment
from leadflow.models.lead import Lead
from leadflow.repositories._bulk import big_read_cache, dialect_name, epoch_micros
from leadflow.repositories.report_sql import in_cohort

STORED = len("2026-11-29 02:30:00.000000")  # how SQLite stores a time (SQLAlchemy's format)


@dataclass(frozen=True, slots=True)
class Page:
    """A page of the cracks (the driver's tuples, see `fallen_through`) and how many there are:
    nobody owns them, or they are owned but past their latest hand-off's deadline."""

    rows: list[tuple[Any, ...]]
    unowned: int
    overdue: int


def fallen_through(
    session: Session,
    cohort: Cohort,
    sales_ready: Sequence[str],
    now: datetime,
    limit: int,
    offset: int = 0,
) -> Page:
    """The page [offset, offset + limit) of the sales-ready cohort leads with no owner, or
    whose latest hand-off is past its deadline untouched, by deadline then id (as SQL orders
    them: no deadline first on SQLite, last on PostgreSQL), and how many there are. A row is
    (id, email, stage, owner, since, team, sla_due_at, sla_due_at's epoch microseconds), the
    times as ISO-like text in UTC as stored (`iso_utc` prints them).

    Each lead's latest hand-off is looked up once: the owned leads past their deadline are
    counted by the query that reads their first rows (usually few: the exceptions of a team at
    work), the leads nobody owns from the leads alone (the covering `ix_leads_cracks` when the
    cohort is all leads), and the page is the two lists' first rows merged."""
    ready = and_(in_cohort(cohort), Lead.stage.in_(list(sales_ready)))
    head = min(offset + limit, MAX_DB_INT)  # the rows before the page's end, of either kind
    handed: Any = _latest_handoffs(session)
    nobody = select(func.count()).select_from(Lead).where(ready, Lead.owner.is_(None))
    unowned = int(session.connection().execute(nobody).scalar_one())
    late = (
        select(func.count().over(), *_columns(session, handed))
        .select_from(Lead)
        .where(ready, Lead.owner.is_not(None), _past_deadline(handed, now))
    )
    # At least one row, for the count, even for no page.
    late_rows = _read(session, late, handed, max(head, 1), inner=True)
    overdue = late_rows[0][0] if late_rows else 0
    if not limit:
        return Page([], unowned, overdue)
    alone = select(*_columns(session, handed)).select_from(Lead).where(ready, Lead.owner.is_(None))
    alone_rows = _read(session, alone, handed, head) if unowned else []
    merged = heapq.merge(alone_rows, (row[1:] for row in late_rows), key=_order(session))
    return Page(list(islice(merged, offset, offset + limit)), unowned, overdue)


def _columns(session: Session, handed: Any) -> tuple[Any, ...]:
    """What a row of the cracks holds (see `fallen_through`)."""
    return (
        Lead.id, Lead.email, Lead.stage, Lead.owner, utc_text(session, Lead.stage_changed_at),
        handed.c.team, utc_text(session, handed.c.sla_due_at),
        epoch_micros(session, handed.c.sla_due_at),
    )  # fmt: skip


def _read(
    session: Session, query: Any, handed: Any, head: int, inner: bool = False
) -> list[tuple[Any, ...]]:
    """The query's first `head` rows joined to the latest hand-offs (`_joined`), by deadline,
    then id, as the driver's tuples. Every lead's hand-off is looked up and sorted by
    deadline, only the first rows kept: a bigger cache for this read on SQLite (about 15% less
    CPU there)."""
    query = _joined(session, query, handed, inner).order_by(handed.c.sla_due_at, Lead.id)
    query = query.limit(head)
    with big_read_cache(session), session.connection().execute(query) as result:
        return list(result.cursor.fetchall())


def _order(session: Session) -> Callable[[tuple[Any, ...]], tuple[Any, ...]]:
    """A row's place as `ORDER BY sla_due_at, id` puts it, from the deadline's text as the
    database compares it (SQLite: the stored text; PostgreSQL: its UTC text, fixed width): no
    deadline sorts first on SQLite, last on PostgreSQL."""
    nulls_first = dialect_name(session) == "sqlite"

    def place(row: tuple[Any, ...]) -> tuple[Any, ...]:
        due = row[6]
        return ((due is None) != nulls_first, due or "", row[0])

    return place


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
