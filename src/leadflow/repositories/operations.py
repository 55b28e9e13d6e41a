"""What operators watch: workers' heartbeats, the oldest undelivered alert, the oldest due SLA."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from leadflow.models.assignment import Assignment
from leadflow.models.outbox import OutboxMessage
from leadflow.models.worker_heartbeat import WorkerHeartbeat
from leadflow.repositories._sql import dialect_insert


def beat(session: Session, name: str, *, now: datetime, started_at: datetime) -> None:
    """Record that the worker `name` is alive at `now` (one upsert: never a duplicate key)."""
    statement = dialect_insert(session, WorkerHeartbeat).values(
        name=name, started_at=started_at, beat_at=now
    )
    session.execute(statement.on_conflict_do_update(index_elements=["name"], set_={"beat_at": now}))


def applied_migrations(session: Session) -> set[str]:
    """The migration revisions this database has applied (Alembic's record of them)."""
    return {str(row[0]) for row in session.execute(text("SELECT version_num FROM alembic_version"))}


def latest_beat(session: Session) -> datetime | None:
    """When any worker last beat."""
    return session.scalar(select(func.max(WorkerHeartbeat.beat_at)))


def forget_workers_before(session: Session, moment: datetime) -> int:
    """Drop heartbeats of workers silent since `moment` (stopped processes)."""
    result = session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.beat_at < moment))
    return int(result.rowcount)  # type: ignore[attr-defined]


def oldest_undelivered(session: Session) -> datetime | None:
    """When the oldest alert still waiting for delivery was queued."""
    return session.scalar(
        select(func.min(OutboxMessage.created_at)).where(
            OutboxMessage.delivered_at.is_(None), OutboxMessage.given_up_at.is_(None)
        )
    )


def oldest_overdue(session: Session, now: datetime) -> datetime | None:
    """The earliest SLA deadline passed on a hand-off still open (not yet swept)."""
    return session.scalar(
        select(func.min(Assignment.sla_due_at)).where(
            Assignment.status == "open", Assignment.sla_due_at < now
        )
    )
