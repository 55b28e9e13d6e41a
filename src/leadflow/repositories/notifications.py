"""In-app notifications: written with the change, read by the bell, marked read; and the
wake-up that tells listening pages a change committed.

A transaction that writes a notification or a hand-off calls `signal`: in this process the
listeners (`repositories._on_commit`) run right after that transaction commits (never when
it rolls back); on PostgreSQL a `NOTIFY` is sent, which the database delivers to every process at
commit. Other processes on SQLite notice on their next look at the table (`changes_since`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, select, text, update
from sqlalchemy.orm import Session

from leadflow.models.assignment import Assignment
from leadflow.models.event import Event
from leadflow.models.outbox import Notification
from leadflow.models.rep import Rep
from leadflow.models.user import User
from leadflow.repositories import _on_commit

CHANNEL = "leadflow_changes"  # the PostgreSQL NOTIFY channel
COMMIT_LISTENERS = _on_commit.LISTENERS[_on_commit.CHANGES]


def signal(session: Session) -> None:
    """Wake listening pages once this transaction commits."""
    first = _on_commit.mark(session, _on_commit.CHANGES)
    if first and session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"NOTIFY {CHANNEL}"))


def add_many(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Store notifications (user_id, alert_id, event_type, lead_id, title, body, created_at)."""
    if rows:
        # One executemany (the ORM's add would insert them one at a time on SQLite, to read
        # back each new id in order; nothing here needs them).
        session.execute(insert(Notification), list(rows))
        signal(session)


def for_user(session: Session, user_id: int, limit: int) -> list[Notification]:
    """A person's notifications, newest first."""
    query = select(Notification).where(Notification.user_id == user_id)
    return list(session.scalars(query.order_by(Notification.id.desc()).limit(limit)))


def unread_count(session: Session, user_id: int) -> int:
    """How many of a person's notifications are unread."""
    query = select(func.count()).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)
    )
    return int(session.scalar(query) or 0)


def mark_read(session: Session, user_id: int, ids: Sequence[int] | None, now: datetime) -> int:
    """Mark a person's notifications read (these ids, or all); how many changed."""
    statement = update(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)
    )
    if ids is not None:
        statement = statement.where(Notification.id.in_(list(ids)))
    done = session.execute(statement.values(read_at=now).execution_options(
        synchronize_session=False))  # fmt: skip
    return int(done.rowcount)  # type: ignore[attr-defined]


# Built once: every hand-off asks.
_ACTIVE_USERS = (
    select(User)
    .where(User.email.in_(bindparam("emails", expanding=True)), User.active.is_(True))
    .order_by(User.id)
)


def active_users_by_email(session: Session, emails: Sequence[str]) -> list[User]:
    """The active users with these e-mails (a rep's e-mail is their user's)."""
    wanted = sorted({e.strip().lower() for e in emails})
    if not wanted:
        return []
    return list(session.scalars(_ACTIVE_USERS, {"emails": wanted}))


def team_emails(session: Session, team: str) -> list[str]:
    """The e-mails of a team's active reps."""
    query = select(Rep.email).where(Rep.team == team, Rep.active.is_(True))
    return list(session.scalars(query))


def latest_ids(session: Session) -> tuple[int, int, int]:
    """The newest notification, assignment and event ids (0 when none): where to start."""
    found = [
        session.scalar(select(func.max(model.id))) or 0
        for model in (Notification, Assignment, Event)
    ]
    return found[0], found[1], found[2]


def notifications_since(session: Session, after: int, limit: int = 500) -> list[Notification]:
    """Notifications newer than `after`, oldest first."""
    query = select(Notification).where(Notification.id > after)
    return list(session.scalars(query.order_by(Notification.id).limit(limit)))


def assignments_since(session: Session, after: int, limit: int = 500) -> list[tuple[int, int]]:
    """(assignment id, lead id) of hand-offs newer than `after`, oldest first."""
    query = select(Assignment.id, Assignment.lead_id).where(Assignment.id > after)
    rows = session.execute(query.order_by(Assignment.id).limit(limit))
    return [(int(a), int(b)) for a, b in rows]


def events_since(session: Session, after: int, lead_ids: Sequence[int]) -> tuple[int, set[int]]:
    """The newest event id, and which of these leads have events newer than `after`."""
    newest = int(session.scalar(select(func.max(Event.id))) or 0)
    if not lead_ids or newest <= after:
        return newest, set()
    query = select(Event.lead_id).where(
        Event.id > after, Event.id <= newest, Event.lead_id.in_(list(lead_ids))
    )
    return newest, {int(x) for x in session.scalars(query.distinct()) if x is not None}


def for_user_ids(session: Session, user_id: int, ids: Sequence[int]) -> list[Notification]:
    """Which of these notifications are the person's."""
    query = select(Notification).where(
        Notification.user_id == user_id, Notification.id.in_(list(ids))
    )
    return list(session.scalars(query))
