"""Stage changes: every move of a lead, with its reason and actor."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from leadflow.models.db import Base


class StageChange(Base):
    """A lead moved from one stage to another."""

    __tablename__ = "stage_changes"
    # Moves into a stage over a period (MQLs this month, the plan's actuals, opportunities).
    __table_args__ = (Index("ix_stage_changes_to_stage_at", "to_stage", "at", "lead_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    from_stage: Mapped[str | None]
    to_stage: Mapped[str]
    at: Mapped[datetime]
    # When the lead entered `from_stage`: `at` minus this is the time it spent there.
    previous_entered_at: Mapped[datetime | None]
    reason: Mapped[str]
    actor: Mapped[str]
