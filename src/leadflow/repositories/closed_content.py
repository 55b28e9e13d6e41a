"""What closed leads consumed before they closed (`closed_content`), and the content report's
count read from it.

The report counts, per item, the won and the lost leads that consumed it before closing.
Read from the events, that is every closed lead's events before its close (1.27M at a
million leads) grouped on each call; read from here it is one pass over a covering index of
the distinct (lead, item) pairs, in group order. Kept by `closed_rollups.refresh` (which
says who calls it); `content_from_events` is the same count from the events themselves: the
definition, which the tests hold the kept rows to.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, case, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from leadflow.core.report_math import Cohort
from leadflow.models.closed_rollups import ClosedContent
from leadflow.models.event import Event
from leadflow.models.lead import Lead
from leadflow.repositories._bulk import dialect_name
from leadflow.repositories.report_sql import SALES_EVENT_SOURCES, in_cohort

OUTCOMES = ("won", "lost")
KIND = case((Event.type == "page", "page"), else_="event")
ITEM = case(
    (Event.type == "page", func.coalesce(Event.path, "?")),
    else_=func.coalesce(Event.name, Event.type),
)


def _before_close() -> list[ColumnElement[bool]]:
    """A closed lead's own page views and tracked events up to its close (joined to leads)."""
    return [
        Lead.outcome.in_(OUTCOMES),
        Event.occurred_at <= Lead.closed_at,
        Event.source.not_in(SALES_EVENT_SOURCES),
        Event.type.in_(["page", "track"]),
    ]


def _consumed(*where: ColumnElement[bool]) -> Select[Any]:
    """Distinct (lead, kind, item, outcome, created_at) of closed leads' events before close."""
    return (
        select(Event.lead_id, KIND, ITEM, Lead.outcome, Lead.created_at)
        .distinct()
        .join(Lead, Lead.id == Event.lead_id)
        .where(*where, *_before_close())
    )


_COLUMNS = ["lead_id", "kind", "item", "outcome", "created_at"]
_OF_IDS = _consumed(Lead.id.in_(bindparam("ids", expanding=True)))
# Built once (a tracking call runs them). DO NOTHING: two transactions refreshing one lead
# at once (PostgreSQL) each add what they see, rather than one failing on the other's rows.
_INSERT = {
    "sqlite": sqlite.insert(ClosedContent).from_select(_COLUMNS, _OF_IDS).on_conflict_do_nothing(),
    "postgresql": postgresql.insert(ClosedContent)
    .from_select(_COLUMNS, _OF_IDS)
    .on_conflict_do_nothing(),
}
_DELETE = delete(ClosedContent).where(ClosedContent.lead_id.in_(bindparam("ids", expanding=True)))


def forget(session: Session, batch: list[int]) -> None:
    """Delete these leads' rows."""
    session.connection().execute(_DELETE, {"ids": batch})


def add(session: Session, batch: list[int]) -> None:
    """Add these leads' rows (none for an open lead) from their events and outcome."""
    session.connection().execute(_INSERT[dialect_name(session)], {"ids": batch})


def _of_cohort(cohort: Cohort) -> list[ColumnElement[bool]]:
    """The cohort on the kept rows: its range of creation on their own column, any other
    filter through the leads it keeps."""
    parts: list[ColumnElement[bool]] = []
    if cohort.since is not None:
        parts.append(ClosedContent.created_at >= cohort.since)
    if cohort.until is not None:
        parts.append(ClosedContent.created_at < cohort.until)
    rest = replace(cohort, since=None, until=None)
    if not rest.is_everyone:
        parts.append(ClosedContent.lead_id.in_(select(Lead.id).where(in_cohort(rest))))
    return parts


def content_by_outcome(session: Session, cohort: Cohort) -> list[tuple[str, str, str, int]]:
    """(kind, item, won or lost, distinct leads) for what closed cohort leads consumed
    before they closed: pages by path, other events by name (sales' own entries excluded)."""
    kept = ClosedContent
    query = (
        select(kept.kind, kept.item, kept.outcome, func.count())
        .where(*_of_cohort(cohort))
        .group_by(kept.kind, kept.item, kept.outcome)
        .order_by(kept.kind, kept.item, kept.outcome)
    )
    return [(k, i, o, int(n)) for k, i, o, n in session.execute(query)]


def content_from_events(session: Session, cohort: Cohort) -> list[tuple[str, str, str, int]]:
    """The same count read from the events themselves (the definition the kept rows hold to)."""
    query = (
        select(KIND, ITEM, Lead.outcome, func.count(func.distinct(Event.lead_id)))
        .join(Lead, Lead.id == Event.lead_id)
        .where(in_cohort(cohort), *_before_close())
        .group_by(KIND, ITEM, Lead.outcome)
        .order_by(KIND, ITEM, Lead.outcome)
    )
    return [(k, i, o, int(n)) for k, i, o, n in session.execute(query)]
