"""Deliver the alert outbox: Standard Webhooks (signed) and Apprise channels, with retries.

Three short transactions per batch, none held across the network: claim due messages (a
lease, so a crashed worker's messages come back), send them, record each outcome. Delivery is
at least once; every retry of an alert carries the same `webhook-id`, so a receiver that keeps
the ids it has seen processes each alert exactly once.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session, sessionmaker
from standardwebhooks import Webhook

from leadflow.core.alert_text import summary
from leadflow.models.outbox import OutboxMessage
from leadflow.repositories import _on_commit, outbox
from leadflow.services import (
    channel_logs,  # noqa: F401  (keeps URLs out of Apprise's logs)
    notifications,
)

if TYPE_CHECKING:
    import httpx

# Waits after each failed try: about 15 hours in all, then the message is given up.
BACKOFF = tuple(timedelta(seconds=s) for s in (5, 30, 120, 600, 1800, 3600, 7200, 14400, 28800))
LEASE = timedelta(seconds=60)
# Outcomes are written at least this often (seconds) while a batch is sent: a message's
# outcome is recorded well before its lease (`LEASE`) runs out.
RECORD_WITHIN = 5.0
TIMEOUT = 10.0
Clock = Callable[[], datetime]


class Handover:
    """The messages this process queues, held for its running worker from the transaction
    that queues them: at that commit their ids are handed to the worker and it is woken, so it
    sends them without first taking the write lock to claim them (on SQLite, behind the
    requests' transactions). Held with the same lease as a claim: if this process dies, any
    worker sends them once the lease has run out."""

    def __init__(self, worker: str, wake: Callable[[], None]) -> None:
        self.worker = worker
        self.wake = wake
        self._ids: list[int] = []
        self._lock = threading.Lock()

    def give(self, ids: Sequence[int]) -> None:
        """At a commit (any thread): these ids are the worker's to send."""
        with self._lock:
            self._ids.extend(ids)
        self.wake()

    def take(self) -> list[int]:
        """The ids handed over since the last take."""
        with self._lock:
            ids, self._ids = self._ids, []
        return ids


_HANDOVERS: list[Handover] = []  # the running workers of this process; the first is handed


@contextmanager
def handed_over(worker: str, wake: Callable[[], None]) -> Iterator[Handover]:
    """While inside, the messages this process queues are held for `worker` from the start
    and handed to it at their commit (`Handover`), and `wake` runs each time a transaction of
    this process that queued messages commits."""
    handover = Handover(worker, wake)
    _HANDOVERS.append(handover)
    _on_commit.listen(_on_commit.OUTBOX, wake)
    try:
        yield handover
    finally:
        _on_commit.unlisten(_on_commit.OUTBOX, wake)
        _HANDOVERS.remove(handover)


def queue(session: Session, rows: Sequence[dict[str, Any]], now: datetime) -> None:
    """Queue messages in the caller's transaction; those still to send are held for this
    process's running worker, if any, and handed to it when the transaction commits."""
    handover = _HANDOVERS[0] if _HANDOVERS else None
    if handover is None:
        outbox.enqueue(session, rows)
        return
    until = now + LEASE
    held = [row if row.get("delivered_at") else {**row, "claimed_until": until} for row in rows]
    ids = outbox.enqueue(session, held, held_by=handover.worker)
    if ids:
        _on_commit.after_commit(session, lambda: handover.give(ids))


@dataclass(frozen=True)
class Claimed:
    """A message held by this worker, with what sending it needs."""

    id: int
    alert_id: str
    event_type: str
    kind: str
    target: str
    payload: dict[str, Any]
    attempts: int
    url: str | None = None
    secret: str | None = None


@dataclass(frozen=True)
class Outcome:
    """How one try went."""

    ok: bool
    status_code: int | None
    error: str | None
    milliseconds: float


def claim(
    factory: sessionmaker[Session], worker: str, now: datetime, limit: int = 50
) -> list[Claimed]:
    """Hold up to `limit` due messages for `LEASE`; messages of inactive endpoints are skipped.

    Only when a read found one due does it take the write lock: the worker polls many times a
    second, and on SQLite each lock taken makes the server's tracking calls wait.
    """
    with factory() as session:
        if not outbox.any_due(session, now):
            return []
    with factory() as session, session.begin():
        session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
        rows = outbox.claim_due(session, now=now, until=now + LEASE, worker=worker, limit=limit)
        return _to_send(session, rows, now)


def _to_send(session: Session, rows: Sequence[OutboxMessage], now: datetime) -> list[Claimed]:
    endpoints = {str(e.id): e for e in outbox.endpoints(session)}
    found = []
    for row in rows:
        if row.target_kind == notifications.KIND:  # a replay: a row to write, no I/O
            notifications.redeliver(session, row, now)
            continue
        endpoint = endpoints.get(row.target) if row.target_kind == "webhook" else None
        if row.target_kind == "webhook" and endpoint is None:
            row.given_up_at, row.last_error = now, "endpoint removed or disabled"
            continue
        found.append(
            Claimed(
                row.id,
                row.alert_id,
                row.event_type,
                row.target_kind,
                row.target,
                dict(row.payload),
                row.attempts,
                endpoint.url if endpoint else None,
                endpoint.secret if endpoint else None,
            )
        )
    return found


def held(factory: sessionmaker[Session], handover: Handover, now: datetime) -> list[Claimed]:
    """The messages handed over to this worker and still its own, read without the write lock
    (the session is never committed: one whose endpoint has gone meanwhile is skipped, and a
    claim gives it up once its lease has run out)."""
    ids = handover.take()
    if not ids:
        return []
    with factory() as session:
        return _to_send(session, outbox.held(session, ids, handover.worker), now)


def send(message: Claimed, client: httpx.Client, now: datetime) -> Outcome:
    """One try; never raises."""
    import httpx  # the network's libraries load with the first send, not with every command

    started = time.perf_counter()
    try:
        if message.kind == "webhook":
            status = _post_webhook(message, client, now)
            ok, error = 200 <= status < 300, None if 200 <= status < 300 else f"HTTP {status}"
        else:
            status, ok = None, _notify(message)
            error = None if ok else "Apprise could not deliver"
    except (httpx.HTTPError, OSError, ValueError) as exc:
        status, ok, error = None, False, f"{type(exc).__name__}: {exc}"[:500]
    return Outcome(ok, status, error, (time.perf_counter() - started) * 1000)


def _post_webhook(message: Claimed, client: httpx.Client, now: datetime) -> int:
    assert message.url is not None and message.secret is not None
    body = json.dumps(message.payload, separators=(",", ":"), default=str)
    signature = Webhook(message.secret).sign(message.alert_id, now, body)
    headers = {
        "content-type": "application/json",
        "webhook-id": message.alert_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
    }
    return client.post(message.url, content=body, headers=headers, timeout=TIMEOUT).status_code


def _notify(message: Claimed) -> bool:
    import apprise

    channel = apprise.Apprise()
    if not channel.add(message.target):
        return False
    title, text = summary(message.payload)
    # Plain text, said so: alerts quote what anyone with the public write key sent, and a body
    # of no stated format reaches an e-mail as its HTML and Slack as markup (links, mentions).
    # Told it is text, Apprise escapes it for each channel's format.
    return bool(channel.notify(title=title, body=text, body_format=apprise.NotifyFormat.TEXT))


Sent = tuple[Claimed, Outcome, datetime]  # a message, how its try went, when


def record(factory: sessionmaker[Session], tries: Sequence[Sent]) -> None:
    """Log these tries in one transaction; each message delivered, or scheduled again with
    backoff, or given up."""
    if not tries:
        return
    with factory() as session, session.begin():
        session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
        rows = {row.id: row for row in outbox.get_many(session, [m.id for m, _, _ in tries])}
        for message, outcome, now in tries:
            outbox.log_attempt(
                session,
                outbox_id=message.id,
                at=now,
                ok=outcome.ok,
                status_code=outcome.status_code,
                error=outcome.error,
                milliseconds=round(outcome.milliseconds, 2),
            )
            row = rows[message.id]
            row.attempts += 1
            row.claimed_until = None
            if outcome.ok:
                row.delivered_at, row.last_error = now, None
            elif row.attempts > len(BACKOFF):
                row.given_up_at, row.last_error = now, outcome.error
            else:
                row.next_attempt_at = now + BACKOFF[row.attempts - 1]
                row.last_error = outcome.error


def deliver_due(
    factory: sessionmaker[Session],
    worker: str,
    clock: Clock,
    client: httpx.Client,
    handover: Handover | None = None,
) -> int:
    """Send what was handed over (no claim needed), else claim a batch of due messages and
    send it; how many were delivered. Every message is sent before any is recorded, so the
    alerts of one hand-off leave together, and the outcomes are written a few at a time
    (`RECORD_WITHIN`), well inside the lease."""
    messages = held(factory, handover, clock()) if handover is not None else []
    tries: list[Sent] = []
    delivered, started = 0, time.monotonic()
    for message in messages or claim(factory, worker, clock()):
        outcome = send(message, client, clock())
        tries.append((message, outcome, clock()))
        delivered += outcome.ok
        if time.monotonic() - started >= RECORD_WITHIN:
            record(factory, tries)
            tries, started = [], time.monotonic()
    record(factory, tries)
    return delivered
