"""Rule matches: the incremental scoring state (which events counted for which rules)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select
from sqlalchemy.orm import Session

from leadflow.models.rule_match import RuleMatch
from leadflow.repositories._sql import chunked, dialect_insert, table_of


def add_many(session: Session, rows: Sequence[dict[str, Any]]) -> int:
    """Store matches (lead_id, event_id, rule_id, occurred_at, points), skipping known ones."""
    table = table_of(RuleMatch)
    statement = (
        dialect_insert(session, table)
        .on_conflict_do_nothing(index_elements=["lead_id", "event_id", "rule_id"])
        .returning(table.c.id)
    )
    return sum(len(session.execute(statement, batch).all()) for batch in chunked(rows))


def for_lead(session: Session, lead_id: int) -> list[RuleMatch]:
    """The lead's matches, oldest first."""
    query = select(RuleMatch).where(RuleMatch.lead_id == lead_id)
    return list(session.scalars(query.order_by(RuleMatch.occurred_at, RuleMatch.id)))


def delete_for_leads(session: Session, lead_ids: Iterable[int]) -> int:
    """Forget the matches of these leads; count them."""
    deleted = 0
    for batch in chunked(sorted(set(lead_ids))):
        statement = delete(RuleMatch).where(RuleMatch.lead_id.in_(batch))
        result = session.execute(statement.execution_options(synchronize_session=False))
        deleted += cast(CursorResult[Any], result).rowcount
    return deleted


def replace_all(
    session: Session, rows: Sequence[dict[str, Any]], *, lead_ids: Iterable[int] | None = None
) -> int:
    """Replace the matches of `lead_ids` (of every lead when None) with `rows`; count them."""
    if lead_ids is None:
        session.execute(delete(RuleMatch).execution_options(synchronize_session=False))
    else:
        delete_for_leads(session, lead_ids)
    return add_many(session, rows)
