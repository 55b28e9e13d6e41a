"""Domains of accounts merged away: they keep leading to the account they joined."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from leadflow.models.db import Base
from leadflow.models.types import utcnow


class AccountAlias(Base):
    """`accounts merge A B` keeps A's domain here, pointing at B: people from A's domain who
    arrive later (tracking, edits, imports) join B instead of re-creating A."""

    __tablename__ = "account_aliases"

    domain: Mapped[str] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
