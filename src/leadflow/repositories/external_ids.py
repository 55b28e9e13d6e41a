"""Leads' record ids in other systems: kept from imports, read by the lead_scores view."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select, tuple_
from sqlalchemy.orm import Session

from leadflow.models.external_id import ExternalId
from leadflow.repositories._sql import chunked, dialect_insert


def link(session: Session, links: Sequence[tuple[int, str, str]]) -> None:
    """Store (lead id, system, external id); an id another lead held moves to this one (the
    CRM's latest export is the truth about which record is which person)."""
    for batch in chunked(list(links)):
        held = tuple_(ExternalId.system, ExternalId.external_id)
        session.execute(delete(ExternalId).where(held.in_([(s, x) for _, s, x in batch])))
        rows = [{"lead_id": i, "system": s, "external_id": x} for i, s, x in batch]
        insert = dialect_insert(session, ExternalId)
        statement = insert.on_conflict_do_update(
            index_elements=[ExternalId.lead_id, ExternalId.system],
            set_={"external_id": insert.excluded.external_id},
        )
        session.execute(statement, rows)


def of_lead(session: Session, lead_id: int) -> dict[str, str]:
    """The lead's ids by system."""
    query = select(ExternalId.system, ExternalId.external_id).where(ExternalId.lead_id == lead_id)
    return {row[0]: row[1] for row in session.execute(query)}
