"""What closed leads did before they closed: the content and attribution reports' roll-ups."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column

from leadflow.models.db import Base

CONTENT_REPORT_INDEX = "ix_closed_content_report"


class ClosedContent(Base):
    """One item (a page by path, another event by name) a won or lost lead consumed before
    its closing time, once however often; with the lead's outcome and creation time, so the
    report counts leads per item by reading this index alone, never the leads or events.
    Kept by `repositories.closed_content.refresh` (see its module for the writers)."""

    __tablename__ = "closed_content"
    __table_args__ = (Index(CONTENT_REPORT_INDEX, "kind", "item", "outcome", "created_at"),)

    lead_id: Mapped[int] = mapped_column(
        ForeignKey("leads.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(primary_key=True)  # page or event
    item: Mapped[str] = mapped_column(primary_key=True)  # the path, or the event's name
    outcome: Mapped[str]  # won or lost
    created_at: Mapped[datetime]  # the lead's, for the report's cohort


class WonTouches(Base):
    """A won lead's campaign touches from its events up to its win (each event naming a
    campaign, however many name the same one), for attribution: one row per lead, so the
    report reads a row per won lead instead of every touch's event. Times are integer
    microseconds since 1970; both lists are JSON arrays, in one order (by time, then
    campaign). Leads without such an event have no row. Kept with `ClosedContent`."""

    __tablename__ = "won_touches"

    lead_id: Mapped[int] = mapped_column(
        ForeignKey("leads.id", ondelete="CASCADE"), primary_key=True
    )
    times: Mapped[str] = mapped_column(Text)  # [microseconds, ...]
    campaigns: Mapped[str] = mapped_column(Text)  # ["campaign", ...]


class WonCredit(Base):
    """A won lead's share of its deal credited to one campaign it touched, under each
    attribution model (`core.attribution_credit`; time-decay at the report's default
    half-life), in millionths of the currency: the attribution report adds these per
    campaign. Ordered by campaign on SQLite (no rowid), so the report's grouped pass reads
    them without sorting. Kept with `WonTouches`, from its rows."""

    __tablename__ = "won_credit"
    __table_args__ = (
        Index("ix_won_credit_lead_id", "lead_id"),
        {"sqlite_with_rowid": False},
    )

    campaign: Mapped[str] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(
        ForeignKey("leads.id", ondelete="CASCADE"), primary_key=True
    )
    first_touch: Mapped[int] = mapped_column(BigInteger)
    last_touch: Mapped[int] = mapped_column(BigInteger)
    linear: Mapped[int] = mapped_column(BigInteger)
    u_shaped: Mapped[int] = mapped_column(BigInteger)
    w_shaped: Mapped[int] = mapped_column(BigInteger)
    time_decay: Mapped[int] = mapped_column(BigInteger)
