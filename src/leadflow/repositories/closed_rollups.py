"""The roll-ups of what closed leads did before they closed (`closed_content` for the content
report, `won_touches` and the credit computed from them, `won_credit`, for attribution), kept
in one place.

Both are functions of a lead's events, its outcome and its closing time, nothing else, so one
function keeps them: `refresh` recomputes the rows of the leads given from scratch (never
patched by the new event alone, so they are exact whatever order events arrive in). It is
called wherever a lead's events or outcome change: `lead_activity.note_added` and
`lead_activity.refresh`, which every writer of events already calls (`events.insert` and
`insert_many`: imports, the demo; `pipeline.run_live`: tracking calls, identities' reassigned
events, lead edits, merges; sales touches and notes; `leads.move_history`; retention;
erasure), and, for the lead's own columns, every flush that changes a lead's outcome,
closing time or creation (a close by `lifecycle.act`, a merge filling them in, an import or
a script writing them: `_after_flush`, a session event, so no writer of the ORM can miss
it; nothing writes them with a plain UPDATE). An erased lead's rows go with it (ON DELETE CASCADE:
copies derived from its events, not records of their own, so not in `people.PERSONAL` nor in
an access export). Closing is rare and a closed lead has a few dozen events, so a refresh
reads little; for an open lead it is one look-up of the lead.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import bindparam, event, inspect, select
from sqlalchemy.orm import Session

from leadflow.models.lead import Lead
from leadflow.models.stage_change import StageChange
from leadflow.repositories import _hot, closed_content, won_credit, won_touches
from leadflow.repositories._sql import chunked

_CLOSED = select(Lead.id).where(
    Lead.id.in_(bindparam("ids", expanding=True)), Lead.outcome.is_not(None)
)


def refresh(session: Session, lead_ids: Iterable[int], *, leads_changed: bool = True) -> None:
    """Recompute these leads' roll-ups from their events and outcome, in id order; the caller
    has flushed what it changed. A writer that only added events says `leads_changed=False`:
    then a lead's attribution credit is recomputed only if its touches changed (most events
    of a customer come after its win and change neither)."""
    for batch in chunked(sorted(set(lead_ids))):
        # Only closed leads have rows (an outcome cleared is refreshed by `_after_flush`,
        # which forgets the lead first): an open lead costs this one look-up.
        closed = _closed(session, batch)
        if not closed:
            continue
        before = {} if leads_changed else won_touches.stored(session, closed)
        closed_content.forget(session, closed)
        won_touches.forget(session, closed)
        closed_content.add(session, closed)
        after = won_touches.add(session, closed)
        stale = [k for k in closed if leads_changed or before.get(k) != after.get(k)]
        if stale:
            won_credit.forget(session, stale)
            won_credit.add(session, stale, after)  # from the touches just written


def _closed(session: Session, batch: list[int]) -> list[int]:
    """Which of these leads are closed (on the driver's cursor: every scored event asks)."""
    return sorted(
        {int(lead_id) for (lead_id,) in _hot.run_listed(session, "closed", _CLOSED, batch)}
    )


def _forget(session: Session, batch: list[int]) -> None:
    closed_content.forget(session, batch)
    won_touches.forget(session, batch)
    won_credit.forget(session, batch)


def backfill_all(session: Session) -> None:
    """Every closed lead's roll-ups from scratch (tests; the migration does the same)."""
    refresh(session, session.scalars(select(Lead.id).where(Lead.outcome.is_not(None))))


# Of leads: what the roll-ups depend on (the amount and the acquiring campaign: the credit).
_COLUMNS_READ = ("outcome", "closed_at", "created_at", "outcome_amount", "campaign")


def _changed(lead: Lead) -> bool:
    state = inspect(lead)
    # Only an attribute set since the last flush has a prior value kept (`committed_state`):
    # the others are not asked for their history, which costs more than the whole check.
    touched = state.committed_state
    return any(
        name in touched and state.attrs[name].history.has_changes() for name in _COLUMNS_READ
    )


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context: Any) -> None:
    """Refresh the leads whose outcome, closing time or creation this flush wrote (a new
    lead only when written closed: an open one has no rows)."""
    created = [x.id for x in session.new if isinstance(x, Lead) and x.outcome is not None]
    edited = [x for x in session.dirty if isinstance(x, Lead) and _changed(x)]
    for batch in chunked(sorted(x.id for x in edited if x.outcome is None)):
        _forget(session, batch)  # one whose outcome was cleared keeps no rows
    # A move into opportunity is a W-shaped key moment (refresh passes over open leads).
    opened = [x.lead_id for x in session.new if isinstance(x, StageChange) and _opens(x.to_stage)]
    refresh(session, [*created, *(x.id for x in edited if x.outcome is not None), *opened])


def _opens(stage: str | None) -> bool:
    return stage == "opportunity"


def opportunities_recorded(session: Session, moves: Iterable[dict[str, Any]]) -> None:
    """Refresh the leads of these moves written in bulk that went into opportunity."""
    refresh(session, [move["lead_id"] for move in moves if _opens(move["to_stage"])])
