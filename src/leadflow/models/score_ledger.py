"""Score ledger: an append-only log of every score a lead had, and why it changed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from leadflow.models.db import Base


class ScoreEntry(Base):
    """A lead's score after an event, a re-score, a playbook change or an import."""

    __tablename__ = "score_ledger"

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    # No foreign key: the log outlives pruned events.
    event_id: Mapped[int | None]
    cause: Mapped[str]
    fit: Mapped[float]
    engagement: Mapped[float]
    total: Mapped[float]
    grade: Mapped[str | None]
    delta_total: Mapped[float]
