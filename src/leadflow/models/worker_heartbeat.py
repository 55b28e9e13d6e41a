"""Workers' heartbeats: each worker says it is alive, so readiness checks can tell."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from leadflow.models.db import Base


class WorkerHeartbeat(Base):
    """The last time a worker (host:pid:thread) finished a sweep."""

    __tablename__ = "worker_heartbeats"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    started_at: Mapped[datetime]
    beat_at: Mapped[datetime] = mapped_column(index=True)
