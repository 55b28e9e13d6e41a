"""The alert outbox: enqueue with the change, claim due rows, record each delivery attempt."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import BindParameter, Select, bindparam, or_, select, update
from sqlalchemy.orm import Session

from leadflow.models.outbox import DeliveryAttempt, OutboxMessage, WebhookEndpoint
from leadflow.repositories import _hot, _on_commit
from leadflow.repositories._sql import dialect_insert, table_of


def enqueue(
    session: Session, rows: Sequence[dict[str, Any]], held_by: str | None = None
) -> list[int]:
    """Add messages (alert_id, event_type, target_kind, target, payload, next_attempt_at, and
    claimed_until for those a worker holds from the start); a message already queued for the
    same alert and target is left as it is. The ids of the new messages `held_by` holds."""
    if not rows:
        return []
    statement = dialect_insert(session, table_of(OutboxMessage)).on_conflict_do_nothing(
        index_elements=["alert_id", "target_kind", "target"]
    )
    values = [{"attempts": 0, "claimed_until": None, **row} for row in rows]
    for row in values:
        row["claimed_by"] = held_by if row["claimed_until"] is not None else None
    _on_commit.mark(session, _on_commit.OUTBOX)  # the worker delivers at the commit
    if held_by is None:
        session.execute(statement, values)
        return []
    table = table_of(OutboxMessage)
    returned = session.execute(statement.returning(table.c.id, table.c.claimed_by), values)
    return [int(id_) for id_, holder in returned if holder == held_by]


def held(session: Session, ids: Sequence[int], worker: str) -> list[OutboxMessage]:
    """These messages, of those `worker` still holds undelivered (a read: no write lock)."""
    query = select(OutboxMessage).where(
        OutboxMessage.id.in_(ids),
        OutboxMessage.claimed_by == worker,
        OutboxMessage.delivered_at.is_(None),
        OutboxMessage.given_up_at.is_(None),
    )
    return list(session.scalars(query.order_by(OutboxMessage.id)))


def _due(now: datetime | BindParameter[Any]) -> tuple[Any, ...]:
    return (
        OutboxMessage.delivered_at.is_(None),
        OutboxMessage.given_up_at.is_(None),
        OutboxMessage.next_attempt_at <= now,
        or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
    )


def _any_due() -> Select[int]:
    return select(OutboxMessage.id).where(*_due(bindparam("now"))).limit(1)


def any_due(session: Session, now: datetime) -> bool:
    """Whether some message is due and unheld: a read, so it takes no write lock.

    The worker asks this many times a second: on the driver's cursor (`_hot`), as building
    and running the statement through SQLAlchemy cost six times the whole poll."""
    return bool(_hot.run(session, "outbox_any_due", _any_due, {"now": now}))


def claim_due(
    session: Session, *, now: datetime, until: datetime, worker: str, limit: int
) -> list[OutboxMessage]:
    """Due, undelivered messages nobody holds, now held by `worker` until `until`.

    On PostgreSQL the rows are locked with FOR UPDATE SKIP LOCKED, so concurrent workers
    never claim the same message; on SQLite the caller's write transaction is exclusive.
    """
    query = (
        select(OutboxMessage)
        .where(*_due(now))
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claimed = list(session.scalars(query))
    for message in claimed:
        message.claimed_until = until
        message.claimed_by = worker
    return claimed


def get_many(session: Session, ids: Sequence[int]) -> list[OutboxMessage]:
    """The messages with these ids."""
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids))))


def log_attempt(session: Session, **fields: Any) -> None:
    """Append to the delivery log (outbox_id, at, ok, status_code, error, milliseconds)."""
    session.add(DeliveryAttempt(**fields))


def for_alert(session: Session, alert_id: str) -> list[OutboxMessage]:
    """Every message of one alert."""
    query = select(OutboxMessage).where(OutboxMessage.alert_id == alert_id)
    return list(session.scalars(query.order_by(OutboxMessage.id)))


def recent(session: Session, limit: int = 50) -> list[OutboxMessage]:
    """The newest messages, for the delivery log."""
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    return list(session.scalars(query))


def attempts(session: Session, outbox_id: int) -> list[DeliveryAttempt]:
    """The tries of one message, oldest first."""
    query = select(DeliveryAttempt).where(DeliveryAttempt.outbox_id == outbox_id)
    return list(session.scalars(query.order_by(DeliveryAttempt.id)))


def replay(session: Session, alert_id: str, now: datetime) -> int:
    """Send an alert again (same id, so receivers can tell); count its messages."""
    statement = (
        update(OutboxMessage)
        .where(OutboxMessage.alert_id == alert_id)
        .values(delivered_at=None, given_up_at=None, next_attempt_at=now, claimed_until=None)
        .execution_options(synchronize_session=False)
    )
    return int(session.execute(statement).rowcount)  # type: ignore[attr-defined]


def add_endpoint(
    session: Session, *, url: str, secret: str, events: list[str], at: datetime
) -> WebhookEndpoint:
    """Register a webhook endpoint."""
    endpoint = WebhookEndpoint(url=url, secret=secret, events=events, created_at=at)
    session.add(endpoint)
    session.flush()
    return endpoint


def endpoints(session: Session, *, active_only: bool = True) -> list[WebhookEndpoint]:
    """Webhook endpoints, oldest first."""
    query = select(WebhookEndpoint).order_by(WebhookEndpoint.id)
    if active_only:
        query = query.where(WebhookEndpoint.active.is_(True))
    return list(session.scalars(query))


def endpoint(session: Session, endpoint_id: int) -> WebhookEndpoint | None:
    """One endpoint by id."""
    return session.get(WebhookEndpoint, endpoint_id)
