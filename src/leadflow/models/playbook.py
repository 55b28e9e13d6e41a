"""Playbook versions: every playbook text ever installed; at most one is active."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column

from leadflow.models.db import Base
from leadflow.models.types import utcnow


class PlaybookVersion(Base):
    """One stored playbook YAML, numbered 1..n."""

    __tablename__ = "playbook_versions"
    __table_args__ = (
        # The database backs up `activate`: a second active row is refused.
        Index(
            "uq_playbook_versions_one_active",
            "active",
            unique=True,
            sqlite_where=text("active"),
            postgresql_where=text("active"),
        ),
        # At most one candidate runs in the shadow of the active version.
        Index(
            "uq_playbook_versions_one_shadow",
            "shadow",
            unique=True,
            sqlite_where=text("shadow"),
            postgresql_where=text("shadow"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(unique=True)
    name: Mapped[str]
    content: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(index=True)
    author: Mapped[str]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    active: Mapped[bool] = mapped_column(default=False)
    shadow: Mapped[bool] = mapped_column(default=False, server_default=false())
