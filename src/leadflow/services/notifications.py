"""The in-app channel: alerts delivered to people's bells, beside Apprise and webhooks.

Delivering in the app is a row in the database, so it happens in the transaction of the change
(no network, no worker): the outbox gets an `inapp` message already marked delivered, for the
delivery log and replays, and each recipient a notification. A replay (`delivery.claim`)
writes the notifications again. Everyone sees only their own notifications.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from leadflow.core.alert_text import lead_of, summary
from leadflow.core.errors import NotFound
from leadflow.core.limits import MAX_DB_INT
from leadflow.models.outbox import Notification, OutboxMessage, WebhookEndpoint
from leadflow.models.rep import Rep
from leadflow.models.user import User
from leadflow.repositories import notifications as repo
from leadflow.repositories import outbox
from leadflow.services import access

KIND = "inapp"
PAGE = 100
HANDED_OVER = "lead.assigned"  # in the app, only a hand-over is told by it (not a hand-off)
# A lead's previous owner told who has it now (`reassign.tell_previous_owner`): in the app
# only, so no webhook event type (`webhooks.EVENT_TYPES`) and no chat channel.
REASSIGNED = "lead.reassigned"


def recipients(session: Session, rep: Rep | None, team: str | None = None) -> list[User]:
    """Who gets an alert in the app: the rep's user; for a lead left in a team's queue, the
    users of that team's reps (any of them may claim it)."""
    if rep is not None:
        return repo.active_users_by_email(session, [rep.email])
    if team is not None:
        return repo.active_users_by_email(session, repo.team_emails(session, team))
    return []


class Audience:
    """Who alerts go to, read once for a run of alerts in one transaction (a bulk pass's
    hand-offs): the webhook endpoints, and each rep's or team's users. What the run sends
    changes none of them; a run of one reads them once, as before."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._endpoints: list[WebhookEndpoint] | None = None
        self._people: dict[tuple[int | None, str | None], list[User]] = {}

    def endpoints(self) -> list[WebhookEndpoint]:
        """The active webhook endpoints."""
        if self._endpoints is None:
            self._endpoints = outbox.endpoints(self.session)
        return self._endpoints

    def recipients(self, rep: Rep | None, team: str | None) -> list[User]:
        """`recipients` of this rep (or team)."""
        key = (rep.id if rep is not None else None, team if rep is None else None)
        if key not in self._people:
            self._people[key] = recipients(self.session, rep, team)
        return self._people[key]


def outbox_rows(alert_id: str, event_type: str, payload: dict[str, Any], users: Sequence[User],
                now: datetime) -> list[dict[str, Any]]:  # fmt: skip
    """The outbox's record of an in-app delivery: delivered the moment it is written."""
    return [
        {"alert_id": alert_id, "event_type": event_type, "target_kind": KIND,
         "target": str(user.id), "payload": payload, "created_at": now,
         "next_attempt_at": now, "delivered_at": now, "attempts": 1}
        for user in users
    ]  # fmt: skip


def deliver(
    session: Session, payload: dict[str, Any], user_ids: Sequence[int], now: datetime
) -> None:
    """A notification for each of these users, in the caller's transaction."""
    deliver_many(session, [(payload, user_ids)], now)


def deliver_many(
    session: Session, alerts: Sequence[tuple[dict[str, Any], Sequence[int]]], now: datetime
) -> None:
    """For each alert, a notification for each of its users, in the caller's transaction."""
    rows = []
    for payload, user_ids in alerts:
        if not user_ids:
            continue
        title, body = summary(payload)
        rows += [
            {"user_id": user_id, "alert_id": str(payload["id"]),
             "event_type": str(payload["type"]), "lead_id": lead_of(payload),
             "title": title[:500], "body": body[:4000], "created_at": now}
            for user_id in user_ids
        ]  # fmt: skip
    repo.add_many(session, rows)


def redeliver(session: Session, message: OutboxMessage, now: datetime) -> None:
    """Deliver an outbox's `inapp` message again (a replay): the user gets a new notification."""
    deliver(session, dict(message.payload), [int(message.target)], now)
    message.attempts += 1
    message.delivered_at, message.last_error, message.claimed_until = now, None, None


def listing(session: Session, user: User) -> list[Notification]:
    """The person's newest notifications."""
    return repo.for_user(session, _own(user), PAGE)


def unread(session: Session, user: User) -> int:
    """How many of the person's notifications are unread."""
    return repo.unread_count(session, _own(user))


def _own(user: User) -> int:
    return access.notifications_of(access.Actor.person(user), user)


def mark_read(session: Session, user: User, ids: Sequence[int] | None, now: datetime) -> int:
    """Mark the person's own notifications read (these, or all); NotFound when one of the ids
    is not theirs or does not exist (nobody learns whether another's exists)."""
    owner = _own(user)
    beyond = [i for i in ids or () if not 0 < i <= MAX_DB_INT]  # no row has such an id
    if beyond:
        raise NotFound(f"no notification {beyond[0]} of yours")
    changed = repo.mark_read(session, owner, ids, now)
    if ids is not None and changed < len(set(ids)):
        mine = {n.id for n in repo.for_user_ids(session, owner, ids)}
        missing = sorted(set(ids) - mine)
        if missing:
            raise NotFound(f"no notification {missing[0]} of yours")
    return changed


@dataclass(frozen=True)
class Cursor:
    """How far a watcher has read: the newest notification, hand-off and event it has seen."""

    notification: int
    assignment: int
    event: int


@dataclass(frozen=True)
class Changes:
    """What committed since a cursor: new notifications (with their users' unread counts),
    the leads handed off (or over to another owner), the watched leads that changed, and the
    cursor after them."""

    notifications: list[dict[str, Any]]
    unread: dict[int, int]
    handed_off: set[int]
    leads: set[int]
    cursor: Cursor

    def any(self) -> bool:
        """Whether there is anything to tell any page."""
        return bool(self.notifications or self.handed_off or self.leads)


def cursor_now(session: Session) -> Cursor:
    """A cursor at the newest rows: a new watcher sees what commits from now on."""
    return Cursor(*repo.latest_ids(session))


def changes_since(session: Session, cursor: Cursor, watched: Sequence[int]) -> Changes:
    """What committed after `cursor`; `watched` are the leads someone has open."""
    fresh = repo.notifications_since(session, cursor.notification)
    handed = repo.assignments_since(session, cursor.assignment)
    newest_event, active = repo.events_since(session, cursor.event, watched)
    users = {n.user_id for n in fresh}
    shown = [
        {"id": n.id, "user_id": n.user_id, "alert_id": n.alert_id, "type": n.event_type,
         "lead_id": n.lead_id, "title": n.title, "body": n.body,
         "created_at": n.created_at.isoformat()}
        for n in fresh
    ]  # fmt: skip
    # A lead handed over to another owner (`reassign.hand_over`) keeps its hand-off row; its
    # new owner's `lead.assigned` tells that it changed hands, as a new row tells a hand-off.
    over = {n.lead_id for n in fresh if n.event_type == HANDED_OVER and n.lead_id}
    handed_off = {lead for _, lead in handed} | over
    leads = active | handed_off | {n.lead_id for n in fresh if n.lead_id}
    after = Cursor(
        fresh[-1].id if fresh else cursor.notification,
        handed[-1][0] if handed else cursor.assignment,
        max(newest_event, cursor.event),
    )
    unread = {user: repo.unread_count(session, user) for user in users}
    return Changes(shown, unread, handed_off, leads, after)
