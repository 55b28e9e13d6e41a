"""Assignments: which rep (or team queue) has a sales-ready lead, why, and by when."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from leadflow.models.db import Base

# A lead's hand-offs by id (migration 0040, in place of the index on lead_id alone): its
# latest is the last entry. PostgreSQL's also holds the team, deadline and first touch, so
# the fallen-through report reads each sales-ready lead's latest hand-off by an index-only
# probe, with no sort per lead; SQLite's entries hold the rowid anyway.
LATEST_INDEX = "ix_assignments_latest"


class Assignment(Base):
    """One hand-off; `status` is open, met, breached or closed; escalations climb a ladder."""

    __tablename__ = "assignments"
    __table_args__ = (
        Index("ix_assignments_status_sla_due_at", "status", "sla_due_at"),
        Index("ix_assignments_rep_load", "rep_id", "assigned_at"),  # routing's load (0045)
        Index(
            LATEST_INDEX,
            "lead_id",
            "id",
            postgresql_include=["team", "sla_due_at", "first_touch_at"],
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    rep_id: Mapped[int | None] = mapped_column(ForeignKey("reps.id", ondelete="SET NULL"))
    team: Mapped[str]
    stage: Mapped[str]
    reason: Mapped[str]
    hand_raiser: Mapped[bool] = mapped_column(default=False)
    assigned_at: Mapped[datetime]
    sla_due_at: Mapped[datetime | None]
    first_touch_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(default="open")
    escalation_level: Mapped[int] = mapped_column(default=0)
