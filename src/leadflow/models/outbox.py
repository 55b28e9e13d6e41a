"""The transactional outbox: alerts written with the change that caused them, sent later."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from leadflow.models.db import Base
from leadflow.models.types import utcnow


class OutboxMessage(Base):
    """One alert for one target (a webhook endpoint or an Apprise URL).

    `alert_id` is the same for every target and every retry of one alert, so receivers can
    deduplicate; the worker claims a row (`claimed_until`) before sending it.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("alert_id", "target_kind", "target"),
        Index("ix_outbox_pending", "delivered_at", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[str]
    event_type: Mapped[str]
    target_kind: Mapped[str]  # webhook | apprise
    target: Mapped[str]  # the endpoint id, or the Apprise URL
    payload: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    next_attempt_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    delivered_at: Mapped[datetime | None]
    given_up_at: Mapped[datetime | None]
    last_error: Mapped[str | None]
    claimed_until: Mapped[datetime | None]
    claimed_by: Mapped[str | None]


class DeliveryAttempt(Base):
    """The delivery log: every try, its outcome and how long it took."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    ok: Mapped[bool]
    status_code: Mapped[int | None]
    error: Mapped[str | None]
    milliseconds: Mapped[float]


class WebhookEndpoint(Base):
    """A receiver of signed lead events (Standard Webhooks)."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str]
    secret: Mapped[str]  # whsec_..., shown once when added
    events: Mapped[list[str]]
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Notification(Base):
    """An alert delivered in the app: one person's copy, shown by the bell until read.

    Written in the transaction of the change that caused it (the in-app channel needs no
    network), so it exists exactly when that change committed; `alert_id` ties it to the
    alert's other deliveries in the outbox.
    """

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_id_read_at", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    alert_id: Mapped[str]
    event_type: Mapped[str]
    lead_id: Mapped[int | None] = mapped_column(
        ForeignKey("leads.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str]
    body: Mapped[str]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]
