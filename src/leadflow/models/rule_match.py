"""Rule matches: which engagement rules each event counted for (incremental scoring state)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from leadflow.models.db import Base


class RuleMatch(Base):
    """One event matched one rule for one lead, worth `points` before decay."""

    __tablename__ = "rule_matches"
    __table_args__ = (UniqueConstraint("lead_id", "event_id", "rule_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Indexed by the unique constraint, whose leading column is lead_id.
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    rule_id: Mapped[str]
    occurred_at: Mapped[datetime]
    points: Mapped[float]
