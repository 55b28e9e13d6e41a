"""Shared goals both teams are measured on, and the shared channels wins and digests go to."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Mapped, mapped_column

from leadflow.models.db import Base
from leadflow.models.types import utcnow


class Goal(Base):
    """A revenue target, or a conversion rate between two stages, for one period."""

    __tablename__ = "goals"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    kind: Mapped[str]  # revenue | conversion
    period: Mapped[str]  # 2026-Q4, 2026-11, 2026
    target: Mapped[float]
    from_stage: Mapped[str | None]  # conversion only
    to_stage: Mapped[str | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SharedChannel(Base):
    """An Apprise URL both teams read: `wins` get every closed deal, `digest` the huddle's
    digest on its schedule."""

    __tablename__ = "shared_channels"

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str]  # wins | digest
    url: Mapped[str]
    schedule: Mapped[str | None]  # digest: "mon 09:00"
    timezone: Mapped[str] = mapped_column(default="UTC")
    next_run_at: Mapped[datetime | None]
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
