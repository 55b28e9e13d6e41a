"""Accounts: the companies leads work for, with their account-level score."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Mapped, mapped_column

from leadflow.models.db import Base
from leadflow.models.types import utcnow


class Account(Base):
    """A company, keyed by its lowercased web domain."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    domain: Mapped[str] = mapped_column(unique=True)
    name: Mapped[str]
    industry: Mapped[str | None]
    employees: Mapped[int | None]
    annual_revenue: Mapped[float | None]
    country: Mapped[str | None]
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    tier: Mapped[str | None]
    owner: Mapped[str | None]  # the rep (e-mail) who owns the account, if any
    fit: Mapped[float] = mapped_column(default=0.0)
    engagement: Mapped[float] = mapped_column(default=0.0)
    total: Mapped[float] = mapped_column(default=0.0)
    engaged_leads: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
