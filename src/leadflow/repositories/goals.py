"""Shared goals and shared channels."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from leadflow.models.goal import Goal, SharedChannel
from leadflow.models.lead import Lead


def add(session: Session, **fields: Any) -> Goal:
    goal = Goal(**fields)
    session.add(goal)
    session.flush()
    return goal


def list_all(session: Session) -> list[Goal]:
    return list(session.scalars(select(Goal).order_by(Goal.period.desc(), Goal.id)))


def get(session: Session, goal_id: int) -> Goal | None:
    return session.get(Goal, goal_id)


def won_revenue(session: Session, start: datetime, end: datetime) -> tuple[float, int]:
    """(amount, deals) won in [start, end)."""
    query = select(func.coalesce(func.sum(Lead.outcome_amount), 0.0), func.count()).where(
        Lead.outcome == "won", Lead.closed_at >= start, Lead.closed_at < end
    )
    amount, deals = session.execute(query).one()
    return float(amount or 0.0), int(deals)


def add_channel(session: Session, **fields: Any) -> SharedChannel:
    channel = SharedChannel(**fields)
    session.add(channel)
    session.flush()
    return channel


def channels(session: Session, purpose: str | None = None) -> list[SharedChannel]:
    query = select(SharedChannel).where(SharedChannel.active.is_(True))
    if purpose is not None:
        query = query.where(SharedChannel.purpose == purpose)
    return list(session.scalars(query.order_by(SharedChannel.id)))


def due_digests(session: Session, now: datetime) -> list[SharedChannel]:
    """Digest channels whose next run has come, locked so one worker sends each."""
    query = (
        select(SharedChannel)
        .where(
            SharedChannel.active.is_(True),
            SharedChannel.purpose == "digest",
            SharedChannel.next_run_at <= now,
        )
        .with_for_update(skip_locked=True)
    )
    return list(session.scalars(query))
