"""Shadow scores: what the candidate playbook made of each lead, beside the active one."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session

from leadflow.models.lead import Lead
from leadflow.models.shadow import ShadowScore
from leadflow.repositories._sql import chunked, dialect_insert, table_of

IDS: Any = bindparam("ids", expanding=True)
_TABLE = table_of(ShadowScore)
_READ = select(_TABLE).where(_TABLE.c.lead_id.in_(IDS))  # built once: the per-event path
_upserts: dict[str, Any] = {}


def read(session: Session, lead_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """The stored shadow rows of these leads."""
    found: dict[int, dict[str, Any]] = {}
    for batch in chunked(sorted(set(lead_ids))):
        for row in session.execute(_READ, {"ids": batch}).mappings():
            found[row["lead_id"]] = dict(row)
    return found


def write(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Store these rows, replacing what the same lead had."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    statement = _upserts.get(dialect)
    if statement is None:
        insert = dialect_insert(session, _TABLE)
        others = {c.key: insert.excluded[c.key] for c in _TABLE.columns if c.key != "lead_id"}
        statement = insert.on_conflict_do_update(index_elements=["lead_id"], set_=others)
        _upserts[dialect] = statement
    session.execute(statement, list(rows))


def forget_states(session: Session, lead_ids: Iterable[int]) -> None:
    """These leads' events changed hands: their shadow states are rebuilt at the next scoring
    (the verdicts so far are kept)."""
    for batch in chunked(sorted(set(lead_ids))):
        statement = update(_TABLE).where(_TABLE.c.lead_id.in_(batch)).values(rule_key=None)
        session.execute(statement)


def clear(session: Session) -> None:
    """Forget every shadow score (a new candidate starts afresh, or none runs)."""
    session.execute(delete(_TABLE))


def compared(session: Session, version_id: int) -> list[dict[str, Any]]:
    """Every lead this version scored, with both sides' totals and MQL times and the outcome."""
    query = (
        select(
            _TABLE.c.lead_id,
            _TABLE.c.total,
            _TABLE.c.active_total,
            _TABLE.c.mql_at,
            _TABLE.c.active_mql_at,
            Lead.outcome,
        )
        .join(Lead, Lead.id == _TABLE.c.lead_id)
        .where(_TABLE.c.version_id == version_id)
        .order_by(_TABLE.c.lead_id)
    )
    return [dict(row) for row in session.execute(query).mappings()]


def outcomes(session: Session) -> dict[int, str | None]:
    """Every lead's outcome (won, lost or None while open)."""
    rows = session.execute(select(Lead.id, Lead.outcome)).all()
    return {row[0]: row[1] for row in rows}
