"""Visitors: distinct people (a lead, else an anonymous id) with a page view in a window, and
the counts by day of each visitor's latest view that the pages' snapshot keeps (the plan's
visit -> lead rate reads them)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, literal_column, select, text
from sqlalchemy.orm import Session

from leadflow.models.event import Event
from leadflow.models.lead import Lead
from leadflow.models.types import UTCDateTime
from leadflow.repositories import lead_activity
from leadflow.repositories._bulk import dialect_name
from leadflow.repositories.report_sql import day_of


def visitors(session: Session, start: datetime, end: datetime) -> int:
    """Distinct visitors (a lead, else an anonymous id) with a page view in [start, end)."""
    return visitors_in(session, [(start, end)])[0]


def visitors_in(session: Session, windows: Sequence[tuple[datetime, datetime]]) -> list[int]:
    """`visitors` in each of several windows (a plan asks for two); the leads are read once."""
    return [
        known + anonymous
        for known, anonymous in zip(
            _leads_visiting(session, windows), _anonymous_visiting(session, windows), strict=True
        )
    ]


def _leads_visiting(session: Session, windows: Sequence[tuple[datetime, datetime]]) -> list[int]:
    """Leads with a page view in each window: a range of their latest page view
    (`lead_activity.leads_visiting`), never a pass over every event of the period."""
    return lead_activity.leads_visiting(session, windows)


def _anonymous_visiting(
    session: Session, windows: Sequence[tuple[datetime, datetime]]
) -> list[int]:
    """Distinct anonymous ids with a page view in each window, from the partial index
    ix_events_anonymous_pages in id order, so the count meets each id's views in a row (no
    temporary b-tree of a million random ids). Its condition is spelled out with literals, or
    the planner may not use it; SQLite, without statistics, is told to."""
    hint = " INDEXED BY ix_events_anonymous_pages" if dialect_name(session) == "sqlite" else ""
    query = text(
        f"SELECT count(DISTINCT anonymous_id) FROM events{hint}"
        " WHERE type = 'page' AND lead_id IS NULL AND occurred_at >= :start"
        " AND occurred_at < :end"
    )
    found = []
    for start, end in windows:
        window = query.bindparams(
            bindparam("start", start, type_=UTCDateTime()),
            bindparam("end", end, type_=UTCDateTime()),
        )
        found.append(int(session.scalar(window) or 0))
    return found


def latest_views_by_day(session: Session, until: datetime) -> dict[str, int]:
    """How many visitors (as `visitors` counts them) had their latest page view before `until`
    on each day (`YYYY-MM-DD`, UTC). Visitors in [day D, until) are then the sum over the days
    from D on: a visitor seen in the window is one whose latest view falls in it. Costly (every
    anonymous id's views, every lead's timeline): the worker's snapshot, not a page's query."""
    found: dict[str, int] = {}
    for day, count in [*_anonymous_latest(session, until), *_leads_latest(session, until)]:
        found[str(day)] = found.get(str(day), 0) + int(count)
    return found


def _anonymous_latest(session: Session, until: datetime) -> list[tuple[Any, Any]]:
    """(day, anonymous ids whose latest page view before `until` was that day), read from
    ix_events_anonymous_pages in id order (see `_anonymous_visiting`)."""
    hint = " INDEXED BY ix_events_anonymous_pages" if dialect_name(session) == "sqlite" else ""
    day = day_of(session, literal_column("max(occurred_at)")).compile(
        dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True}
    )
    query = text(
        f"SELECT day, count(*) FROM (SELECT {day} AS day FROM events{hint}"
        " WHERE type = 'page' AND lead_id IS NULL AND anonymous_id IS NOT NULL"
        " AND occurred_at < :until GROUP BY anonymous_id) AS latest GROUP BY day"
    ).bindparams(bindparam("until", until, type_=UTCDateTime()))
    return [(d, n) for d, n in session.execute(query)]


def _leads_latest(session: Session, until: datetime) -> list[tuple[Any, Any]]:
    """(day, leads whose latest page view before `until` was that day): one look into each
    lead's timeline (ix_events_lead_timeline)."""
    latest = (
        select(func.max(Event.occurred_at))
        .where(Event.lead_id == Lead.id, Event.type == "page", Event.occurred_at < until)
        .scalar_subquery()
        .label("at")
    )
    per_lead = select(latest).select_from(Lead).subquery()
    day = day_of(session, per_lead.c.at)
    query = select(day, func.count()).where(per_lead.c.at.is_not(None)).group_by(day)
    return [(d, n) for d, n in session.execute(query)]
