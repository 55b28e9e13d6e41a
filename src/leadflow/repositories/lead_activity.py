"""Each lead's latest event and latest page view (`leads.last_event_at`,
`leads.last_page_view_at`): kept by every writer that changes which events a lead has, and
read by the reports that would otherwise look into every lead's events (stale leads, visiting
leads).

Both are recomputed from the lead's events (`refresh`), never moved forward by the new event
alone: exact whatever order events arrive in (an import of old events, a late one), and when
events leave a lead (a merge, retention's anonymization). Writers: `events.insert` and
`insert_many` (imports, the demo), `pipeline.run_live` for the leads it scores (tracking
calls' events and identities' reassigned ones: under the lock it takes, in id order), sales
touches and notes, `leads.move_history` (merges) and `people.anonymize_events_before`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    bindparam,
    case,
    func,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from leadflow.models.event import Event
from leadflow.models.lead import Lead
from leadflow.repositories._sql import chunked, table_of

_LEADS = table_of(Lead)
_EVENTS = table_of(Event)
_PAGE: ColumnElement[str] = literal_column("'page'")  # a literal: one plan for every call


def _latest(*conditions: ColumnElement[bool]) -> ColumnElement[datetime]:
    """The time of the lead's latest event meeting `conditions` (one look into its timeline,
    ix_events_lead_timeline)."""
    query = select(func.max(_EVENTS.c.occurred_at)).where(
        _EVENTS.c.lead_id == _LEADS.c.id, *conditions
    )
    return query.scalar_subquery()


# Built once: run_live runs it for every tracking call.
_REFRESH = (
    update(_LEADS)
    .where(_LEADS.c.id.in_(bindparam("ids", expanding=True)))
    .values(
        last_event_at=_latest(),
        last_page_view_at=_latest(_EVENTS.c.type == _PAGE),
    )
)


def refresh(session: Session, lead_ids: Iterable[int]) -> None:
    """Recompute these leads' latest event and page view from their events (in id order:
    the order writers lock leads in)."""
    for batch in chunked(sorted(set(lead_ids))):
        session.connection().execute(_REFRESH, {"ids": batch})


def no_event_since(before: datetime) -> ColumnElement[bool]:
    """The lead has no event at or after `before` (none at all, or its latest is earlier)."""
    return or_(Lead.last_event_at.is_(None), Lead.last_event_at < before)


def leads_visiting(session: Session, windows: Sequence[tuple[datetime, datetime]]) -> list[int]:
    """Leads with a page view in each window [start, end). A lead whose latest view is in the
    window is one; one whose latest view is later (a window in the past) is looked up in its
    timeline; the others, before the window or never, are not read at all."""
    found = []
    for start, end in windows:
        viewed = select(Event.id).where(
            Event.lead_id == Lead.id,
            Event.type == _PAGE,
            Event.occurred_at >= start,
            Event.occurred_at < end,
        )
        visiting = case((Lead.last_page_view_at < end, 1), (viewed.exists(), 1), else_=0)
        query = select(func.sum(visiting)).where(Lead.last_page_view_at >= start)
        found.append(int(session.scalar(query) or 0))
    return found
