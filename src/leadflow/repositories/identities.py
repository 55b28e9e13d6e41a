"""Identities: anonymous visitors resolved to leads, and the addresses merges folded into them.

One table of keys: an anonymous id as it is, a user id as `user:<id>`, an address a merge
took from the lead it deleted as `email:<address>` (which `repositories.leads` reads when no
lead has the address as its own).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import cast

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from leadflow.core.facts import EventFacts
from leadflow.core.segment import EMAIL_PREFIX, merged_address
from leadflow.models.event import Event
from leadflow.models.identity import Identity
from leadflow.repositories import _hot, rule_state
from leadflow.repositories._sql import dialect_insert, insert_new_only, table_of
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


def lead_for_address(session: Session, address: str) -> int | None:
    """The lead a merge folded the lead with this address (in its one form) into, if any."""
    return lead_for_anonymous(session, EMAIL_PREFIX + address)


def leads_for_addresses(session: Session, addresses: Iterable[str]) -> dict[str, int]:
    """`lead_for_address` of many: by address, for those a merge folded into a lead."""
    found = leads_for(session, [EMAIL_PREFIX + address for address in addresses])
    return {address: lead for key, lead in found.items() if (address := merged_address(key))}


def keep_address(session: Session, address: str, lead_id: int, at: datetime) -> None:
    """The address (in its one form) names this lead from now on: a merge folded the lead that
    had it into this one. An older link of it (to a lead merged away before) follows."""
    table = table_of(Identity)
    row = {"anonymous_id": EMAIL_PREFIX + address, "lead_id": lead_id, "created_at": at}
    statement = dialect_insert(session, table).values(row)
    statement = statement.on_conflict_do_update(
        index_elements=["anonymous_id"], set_={"lead_id": lead_id, "created_at": at}
    )
    session.connection().execute(statement)


def addresses_of(session: Session, lead_id: int) -> list[str]:
    """The addresses merges folded into the lead, sorted (its own is on the lead)."""
    query = select(Identity.anonymous_id).where(
        Identity.lead_id == lead_id, Identity.anonymous_id.startswith(EMAIL_PREFIX)
    )
    return sorted(address for key in session.scalars(query) if (address := merged_address(key)))
