"""Outbound webhooks (Standard Webhooks): endpoints, their secrets, the delivery log, replay."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from leadflow.core.errors import Invalid, NotFound
from leadflow.models.outbox import OutboxMessage, WebhookEndpoint
from leadflow.repositories import outbox

EVENT_TYPES = (
    "lead.sales_ready",
    "lead.assigned",
    "sla.breached",
    "sla.escalated",
    "deal.won",
    "report.digest",
    "people.erased",
)


@dataclass(frozen=True)
class NewEndpoint:
    """An endpoint just added, with its signing secret (shown this once)."""

    endpoint: WebhookEndpoint
    secret: str


def check_url(url: str) -> str:
    """The URL, or Invalid naming why it cannot receive webhooks."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise Invalid(f"webhook URL {url!r} must be an absolute http:// or https:// URL")
    return url.strip()


def add_endpoint(
    session: Session, url: str, events: list[str] | None, *, now: datetime
) -> NewEndpoint:
    """Register an endpoint for these event types (all when none given)."""
    wanted = list(events or EVENT_TYPES)
    unknown = sorted(set(wanted) - set(EVENT_TYPES))
    if unknown:
        raise Invalid(f"unknown event types {unknown}; known: {', '.join(EVENT_TYPES)}")
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    endpoint = outbox.add_endpoint(
        session, url=check_url(url), secret=secret, events=wanted, at=now
    )
    return NewEndpoint(endpoint, secret)


def list_endpoints(session: Session) -> list[WebhookEndpoint]:
    """Every endpoint, active or not."""
    return outbox.endpoints(session, active_only=False)


def disable(session: Session, endpoint_id: int) -> WebhookEndpoint:
    """Stop sending to an endpoint."""
    endpoint = outbox.endpoint(session, endpoint_id)
    if endpoint is None:
        raise NotFound(f"no webhook endpoint with id {endpoint_id}")
    endpoint.active = False
    return endpoint


def delivery_log(session: Session, limit: int) -> list[OutboxMessage]:
    """The newest outbox messages."""
    return outbox.recent(session, limit)


def replay(session: Session, alert_id: str, now: datetime) -> int:
    """Queue an alert again under the same id; NotFound when there is no such alert."""
    count = outbox.replay(session, alert_id, now)
    if not count:
        raise NotFound(f"no alert with id {alert_id!r}")
    return count
