"""Stage changes: the history of every lead's moves, each with a reason and an actor."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, and_, func, or_, select
from sqlalchemy.orm import Session

from leadflow.core.lifecycle import MERGE_ACTOR
from leadflow.models.stage_change import StageChange
from leadflow.repositories import closed_rollups
from leadflow.repositories._driver import insert_rows
from leadflow.repositories._sql import chunked, table_of

LatestMove = Row[int, str, datetime]  # (lead_id, reason, at)


def record(
    session: Session,
    *,
    lead_id: int,
    from_stage: str | None,
    to_stage: str,
    at: datetime,
    reason: str,
    actor: str,
    previous_entered_at: datetime | None = None,
) -> StageChange:
    """Write one move to the history."""
    change = StageChange(
        lead_id=lead_id, from_stage=from_stage, to_stage=to_stage, at=at, reason=reason,
        actor=actor, previous_entered_at=previous_entered_at,
    )  # fmt: skip
    session.add(change)
    return change


def record_many(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Write many moves (lead_id, from_stage, to_stage, at, reason, actor,
    previous_entered_at) in one executemany."""
    if rows:
        insert_rows(session, table_of(StageChange), rows)
        closed_rollups.opportunities_recorded(session, rows)  # attribution's key moments


def for_lead(session: Session, lead_id: int) -> list[StageChange]:
    """The lead's moves, oldest first."""
    query = select(StageChange).where(StageChange.lead_id == lead_id)
    return list(session.scalars(query.order_by(StageChange.at, StageChange.id)))


def _moved() -> ColumnElement[bool]:
    """A row that moved the lead: an action that keeps the stage (a rep accepting an SQL,
    sql -> sql) is on the history but entered nothing."""
    return or_(StageChange.from_stage.is_(None), StageChange.from_stage != StageChange.to_stage)


def entered() -> ColumnElement[bool]:
    """A row that entered its stage, as the reports count entries: a move, but not a merge's
    own row (the history the duplicate brought holds its move into the stage)."""
    return and_(_moved(), StageChange.actor != MERGE_ACTOR)


def entries_between(session: Session, stage: str, start: datetime, end: datetime) -> int:
    """How many moves into `stage` happened in [start, end)."""
    query = select(func.count()).where(
        StageChange.to_stage == stage, StageChange.at >= start, StageChange.at < end, entered()
    )
    return int(session.scalar(query) or 0)


def latest_for(session: Session, lead_ids: Iterable[int]) -> dict[int, LatestMove]:
    """Each of these leads' latest move (the one into its current stage): its reason and
    time, by lead. An action that keeps the stage (a rep accepting an SQL) is on the history
    but moved nothing, so it is not the move into the stage."""
    found: dict[int, LatestMove] = {}
    moved = _moved()
    for batch in chunked(sorted(set(lead_ids))):
        query = select(StageChange.lead_id, StageChange.reason, StageChange.at).where(
            StageChange.lead_id.in_(batch), moved
        )
        for row in session.execute(query.order_by(StageChange.at, StageChange.id)):
            found[row.lead_id] = row  # oldest first: the last one wins
    return found
