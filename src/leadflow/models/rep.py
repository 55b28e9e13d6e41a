"""Sales reps: team, capacity, working hours, out-of-office, manager and alert channels."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Mapped, mapped_column

from leadflow.models.db import Base
from leadflow.models.types import utcnow


class Rep(Base):
    """One person who takes leads; `team` is what routing rules name."""

    __tablename__ = "reps"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    email: Mapped[str] = mapped_column(unique=True)
    team: Mapped[str] = mapped_column(index=True)
    territories: Mapped[list[str]] = mapped_column(default=list)
    capacity: Mapped[int] = mapped_column(default=20)
    weight: Mapped[float] = mapped_column(default=1.0)
    working_hours: Mapped[str] = mapped_column(default="mon-fri 09:00-17:00")
    timezone: Mapped[str] = mapped_column(default="UTC")
    out_of_office_until: Mapped[datetime | None]
    manager_email: Mapped[str | None]
    channels: Mapped[list[str]] = mapped_column(default=list)  # Apprise URLs
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
