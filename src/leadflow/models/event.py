"""Events: what leads (or anonymous visitors) did, deduplicated by source and message id."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, UniqueConstraint, column, func, text
from sqlalchemy.orm import Mapped, mapped_column

from leadflow.core.event_kinds import kind_of, occurred_micros
from leadflow.models.db import Base
from leadflow.models.types import utcnow


def _occurred_us(context: Any) -> int | None:
    moment = context.get_current_parameters().get("occurred_at")
    return occurred_micros(moment) if isinstance(moment, datetime) else None


def _kind(context: Any) -> int:
    row = context.get_current_parameters()
    return kind_of(row["type"], row.get("name"), row.get("properties"))


# The partial indexes' conditions: a query uses one only when it says the same, with literals.
CAMPAIGN_TOUCH = text("campaign IS NOT NULL")
ANONYMOUS_PAGE = text("type = 'page' AND lead_id IS NULL")


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
        # The same, folded to lower case: the hand-raisers' events (matched by type and
        # case-insensitive name) of every open lead, for a bulk stage pass (migration 0042).
        Index("ix_events_folded_name", func.lower(column("name"))),
        Index("ix_events_occurred_at", "occurred_at", postgresql_using="brin"),
        # All a bulk re-score reads of an event, in integers (see core.event_kinds).
        Index("ix_events_scoring", "lead_id", "occurred_us", "kind"),
        # The few events that name a campaign (attribution's touches), by lead.
        Index(
            "ix_events_campaign_touches",
            "lead_id",
            "occurred_at",
            "campaign",
            sqlite_where=CAMPAIGN_TOUCH,
            postgresql_where=CAMPAIGN_TOUCH,
        ),
        # Anonymous page views (the plan's visitors), without reading the rows; by id, so
        # counting distinct ids reads them in order (by time, a million random inserts into
        # the count's temporary b-tree took ten times as long).
        Index(
            "ix_events_anonymous_pages",
            "anonymous_id",
            "occurred_at",
            sqlite_where=ANONYMOUS_PAGE,
            postgresql_where=ANONYMOUS_PAGE,
        ),
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
    # Indexed by ix_events_occurred_at: BRIN on PostgreSQL (events arrive in time order), a
    # B-tree on SQLite (no BRIN there); see migration 0028.
    occurred_at: Mapped[datetime]
    # Read from properties/context when stored, so reports over millions of events read a
    # column instead of parsing JSON: the campaign it came from, and a page view's path.
    campaign: Mapped[str | None]
    path: Mapped[str | None]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    # What a bulk re-score reads, so it parses no text: the time as integer microseconds
    # since 1970 (UTC) and the kind (type, name, path). Every insert fills them in from the
    # row (events.with_lookups, else these defaults); NULL only where raw SQL left them out.
    occurred_us: Mapped[int | None] = mapped_column(BigInteger, default=_occurred_us)
    kind: Mapped[int | None] = mapped_column(BigInteger, default=_kind)
