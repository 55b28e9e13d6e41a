"""Marks that the decay pass's search for leads without states is due (`stateless_search_due`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from leadflow.models.stateless_due import StatelessSearchDue
from leadflow.repositories._sql import chunked


def mark(session: Session, scored_as_of: datetime) -> None:
    """Leads were scored in bulk as of this moment, which is not the present."""
    session.execute(insert(StatelessSearchDue).values(scored_as_of=scored_as_of))


def marked(session: Session) -> list[int]:
    """The marks standing (a few rows at most: one per run since the last search)."""
    return list(session.scalars(select(StatelessSearchDue.id).order_by(StatelessSearchDue.id)))


def take(session: Session, ids: Sequence[int]) -> None:
    """These marks are answered; any written since stay."""
    for batch in chunked(sorted(set(ids))):
        session.execute(delete(StatelessSearchDue).where(StatelessSearchDue.id.in_(batch)))
