"""Events: what leads (or anonymous visitors) did, deduplicated by source and message id."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from leadflow.models.db import Base
from leadflow.models.types import utcnow


class Event(Base):
    """One Segment-style event (track/page/screen/identify/group/alias/native)."""

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("source", "message_id"),
        # A lead's timeline, and covering for the reports that read closed leads' events
        # (type, source, name, path, campaign): no wide row with its JSON is read for them.
        Index(
            "ix_events_lead_timeline",
            "lead_id",
            "occurred_at",
            "type",
            "source",
            "name",
            "path",
            "campaign",
        ),
        # Named events are the rare, meaningful ones (bounces, demo requests, touches): found
        # by name without reading every page view.
        Index("ix_events_name", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Indexed by ix_events_lead_timeline, whose leading column is lead_id.
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    anonymous_id: Mapped[str | None] = mapped_column(index=True)
    source: Mapped[str] = mapped_column(default="api")
    message_id: Mapped[str]
    type: Mapped[str]
    name: Mapped[str | None]
    properties: Mapped[dict[str, Any]] = mapped_column(default=dict)
    context: Mapped[dict[str, Any]] = mapped_column(default=dict)
    occurred_at: Mapped[datetime] = mapped_column(index=True)
    # Read from properties/context when stored, so reports over millions of events read a
    # column instead of parsing JSON: the campaign it came from, and a page view's path.
    campaign: Mapped[str | None]
    path: Mapped[str | None]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
