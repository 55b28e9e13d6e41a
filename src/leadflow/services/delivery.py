"""Deliver the alert outbox: Standard Webhooks (signed) and Apprise channels, with retries.

Three short transactions per batch, none held across the network: claim due messages (a
lease, so a crashed worker's messages come back), send them, record each outcome. Delivery is
at least once; every retry of an alert carries the same `webhook-id`, so a receiver that keeps
the ids it has seen processes each alert exactly once.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import apprise
import httpx
from sqlalchemy.orm import Session, sessionmaker
from standardwebhooks import Webhook

from leadflow.core.alert_text import summary
from leadflow.repositories import _on_commit, outbox
from leadflow.services import (
    channel_logs,  # noqa: F401  (keeps URLs out of Apprise's logs)
    notifications,
)

# Waits after each failed try: about 15 hours in all, then the message is given up.
BACKOFF = tuple(timedelta(seconds=s) for s in (5, 30, 120, 600, 1800, 3600, 7200, 14400, 28800))
LEASE = timedelta(seconds=60)
TIMEOUT = 10.0
Clock = Callable[[], datetime]


@contextmanager
def woken_by_new_messages(wake: Callable[[], None]) -> Iterator[None]:
    """While inside, `wake` runs (in the committing thread) each time a transaction of this
    process that queued messages commits: the worker delivers at once instead of on its next
    poll."""
    _on_commit.listen(_on_commit.OUTBOX, wake)
    try:
        yield
    finally:
        _on_commit.unlisten(_on_commit.OUTBOX, wake)


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


def send(message: Claimed, client: httpx.Client, now: datetime) -> Outcome:
    """One try; never raises."""
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
    channel = apprise.Apprise()
    if not channel.add(message.target):
        return False
    title, text = summary(message.payload)
    return bool(channel.notify(title=title, body=text))


def record(
    factory: sessionmaker[Session], message: Claimed, outcome: Outcome, now: datetime
) -> None:
    """Log the try; delivered, or scheduled again with backoff, or given up."""
    with factory() as session, session.begin():
        session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
        outbox.log_attempt(
            session,
            outbox_id=message.id,
            at=now,
            ok=outcome.ok,
            status_code=outcome.status_code,
            error=outcome.error,
            milliseconds=round(outcome.milliseconds, 2),
        )
        [row] = outbox.get_many(session, [message.id])
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
    factory: sessionmaker[Session], worker: str, clock: Clock, client: httpx.Client
) -> int:
    """Claim, send and record one batch of due messages; how many were delivered."""
    delivered = 0
    for message in claim(factory, worker, clock()):
        outcome = send(message, client, clock())
        record(factory, message, outcome, clock())
        delivered += outcome.ok
    return delivered
