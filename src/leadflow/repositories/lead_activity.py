"""Each lead's latest event and latest page view (`leads.last_event_at`,
`leads.last_page_view_at`): kept by every writer that changes which events a lead has, and
read by the reports that would otherwise look into every lead's events (stale leads, visiting
leads).

Both are read back from the lead's stored events, never moved forward by the new event alone:
exact whatever order events arrive in (an import of old events, a late one). Where events are
only added (`note_added`): `events.insert` and `insert_many` (imports, the demo),
`pipeline.run_live` for the leads it scores (tracking calls' events and identities' reassigned
ones: under the lock it takes, in id order), sales touches and notes. Where events leave a lead
(`refresh`, from all its events): `leads.move_history` (merges),
`people.anonymize_events_before` (retention) and `people.delete_person` (erasure).
Both also refresh what closed leads did before closing (`closed_rollups`), which changes
with their events.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

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
from leadflow.models.types import UTCDateTime
from leadflow.repositories import _hot, closed_rollups
from leadflow.repositories._sql import chunked, table_of

_LEADS = table_of(Lead)
_EVENTS = table_of(Event)
EARLIEST = datetime(1, 1, 1, tzinfo=UTC)  # before any stored time: "no page view yet"
_PAGE: ColumnElement[str] = literal_column("'page'")  # a literal: one plan for every call


def _latest(*conditions: ColumnElement[bool]) -> ColumnElement[datetime]:
    """The time of the lead's latest event meeting `conditions` (one look into its timeline,
    ix_events_lead_timeline)."""
    query = select(func.max(_EVENTS.c.occurred_at)).where(
        _EVENTS.c.lead_id == _LEADS.c.id, *conditions
    )
    return query.scalar_subquery()


def _refresh(page_view: ColumnElement[datetime]) -> Any:
    return (
        update(_LEADS)
        .where(_LEADS.c.id.in_(bindparam("ids", expanding=True)))
        .values(last_event_at=_latest(), last_page_view_at=page_view)
    )


# Built once: run_live runs one for every tracking call. The latest event is the top of the
# lead's timeline (one index step); the latest page view is looked for among the events from
# the one stored on (where events were only added, an earlier one cannot have become the
# latest), not through the lead's whole timeline.
_SINCE_STORED = _EVENTS.c.occurred_at >= func.coalesce(
    _LEADS.c.last_page_view_at, bindparam("earliest", EARLIEST, type_=UTCDateTime())
)
_ADDED = _refresh(_latest(_EVENTS.c.type == _PAGE, _SINCE_STORED))
_RECOMPUTED = _refresh(_latest(_EVENTS.c.type == _PAGE))


def note_added(session: Session, lead_ids: Iterable[int]) -> None:
    """After events were added to these leads (and none taken away): their latest event and
    page view, in id order (the order writers lock leads in)."""
    wanted = sorted(set(lead_ids))
    # On the driver's cursor (`_hot`): every scored event runs it.
    _hot.run_listed(session, "leads_activity_added", _ADDED, wanted, {"earliest": EARLIEST})
    # What a closed lead consumed may have changed (events only: not its own columns).
    closed_rollups.refresh(session, wanted, leads_changed=False)


def refresh(session: Session, lead_ids: Iterable[int]) -> None:
    """Recompute these leads' latest event and page view from all their events (after events
    were taken away from them), in id order."""
    wanted = sorted(set(lead_ids))
    for batch in chunked(wanted):
        session.connection().execute(_RECOMPUTED, {"ids": batch})
    closed_rollups.refresh(session, wanted)


def no_event_since(before: datetime) -> ColumnElement[bool]:
    """The lead has no event at or after `before` (none at all, or its latest is earlier)."""
    return or_(*no_event_since_parts(before))


def no_event_since_parts(before: datetime) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """`no_event_since` as its two disjoint parts, no event at all and the latest earlier:
    each one range of ix_leads_last_event, counted apart faster than SQLite counts their OR
    (through a set of the row ids of both ranges)."""
    return Lead.last_event_at.is_(None), Lead.last_event_at < before


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
