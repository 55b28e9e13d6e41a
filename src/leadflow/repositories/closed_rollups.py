"""The roll-ups of what closed leads did before they closed (`closed_content` for the content
report, `won_touches` for attribution), kept in one place.

Both are functions of a lead's events, its outcome and its closing time, nothing else, so one
function keeps them: `refresh` recomputes the rows of the leads given from scratch (never
patched by the new event alone, so they are exact whatever order events arrive in). It is
called wherever a lead's events or outcome change: `lead_activity.note_added` and
`lead_activity.refresh`, which every writer of events already calls (`events.insert` and
`insert_many`: imports, the demo; `pipeline.run_live`: tracking calls, identities' reassigned
events, lead edits, and merges after the merge filled in the outcome, closing time and
creation; sales touches and notes; `leads.move_history`; retention; erasure), and
`lifecycle.act` when a lead is closed. An erased lead's rows go with it (ON DELETE CASCADE:
copies derived from its events, not records of their own, so not in `people.PERSONAL` nor in
an access export). Closing is rare and a closed lead has a few dozen events, so a refresh
reads little; for an open lead it is three index probes.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from leadflow.models.lead import Lead
from leadflow.repositories import closed_content, won_touches
from leadflow.repositories._sql import chunked

_CLOSED = select(Lead.id).where(
    Lead.id.in_(bindparam("ids", expanding=True)), Lead.outcome.is_not(None)
)


def refresh(session: Session, lead_ids: Iterable[int]) -> None:
    """Recompute these leads' roll-ups from their events and outcome, in id order; the caller
    has flushed what it changed."""
    for batch in chunked(sorted(set(lead_ids))):
        closed_content.forget(session, batch)
        won_touches.forget(session, batch)
        closed = sorted(session.connection().execute(_CLOSED, {"ids": batch}).scalars())
        if closed:
            closed_content.add(session, closed)
            won_touches.add(session, closed)


def backfill_all(session: Session) -> None:
    """Every closed lead's roll-ups from scratch (tests; the migration does the same)."""
    refresh(session, session.scalars(select(Lead.id).where(Lead.outcome.is_not(None))))
