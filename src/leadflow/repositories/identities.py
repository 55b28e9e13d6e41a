"""Identities: anonymous visitors resolved to leads."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import cast

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from leadflow.core.facts import EventFacts
from leadflow.models.event import Event
from leadflow.models.identity import Identity
from leadflow.repositories import _hot, rule_state
from leadflow.repositories._sql import insert_new_only, table_of
from leadflow.repositories.events import EventColumns, as_facts

_LEAD_FOR = select(Identity.lead_id).where(Identity.anonymous_id == bindparam("key"))


def lead_for_anonymous(session: Session, anonymous_id: str) -> int | None:
    """The lead id this anonymous id was linked to, if any."""
    return session.connection().execute(_LEAD_FOR, {"key": anonymous_id}).scalar()


def link(session: Session, *, anonymous_id: str, lead_id: int, at: datetime) -> int:
    """Link an anonymous id to a lead; the first link wins. Returns the linked lead id."""
    row = {"anonymous_id": anonymous_id, "lead_id": lead_id, "created_at": at}
    statement = insert_new_only(session, Identity, ["anonymous_id"], ["lead_id"])
    if session.connection().execute(statement, row).scalar() is not None:
        return lead_id  # linked now
    linked = lead_for_anonymous(session, anonymous_id)
    return lead_id if linked is None else linked


_REASSIGN = (
    update(table_of(Event))
    .where(Event.anonymous_id == bindparam("key"), Event.lead_id.is_(None))
    .values(lead_id=bindparam("new_lead"))
    # As `events.as_facts` reads them: the stage step sees these events as new to the lead.
    .returning(
        Event.id,
        Event.lead_id,
        Event.type,
        Event.name,
        Event.properties,
        Event.context,
        Event.occurred_at,
    )
)


def reassign_events(session: Session, *, anonymous_id: str, lead_id: int) -> list[EventFacts]:
    """Give the lead every event its anonymous id left before it was known; those events."""
    found = session.connection().execute(_REASSIGN, {"key": anonymous_id, "new_lead": lead_id})
    moved = [as_facts(cast(EventColumns, row)) for row in found]
    if moved:
        rule_state.forget(session, [lead_id])  # its scoring state no longer covers its events
    return moved


# Built once: this runs for every tracking call (on the driver's cursor, `_hot`).
_LEADS_FOR = select(Identity.anonymous_id, Identity.lead_id).where(
    Identity.anonymous_id.in_(bindparam("keys", expanding=True))
)


def leads_for(session: Session, keys: Iterable[str]) -> dict[str, int]:
    """The lead each known identity key (anonymous id or `user:` id) belongs to."""
    rows = _hot.run_listed(session, "leads_for", _LEADS_FOR, sorted(set(keys)), name="keys")
    return {str(key): int(lead) for key, lead in rows}
