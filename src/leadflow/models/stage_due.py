"""Accounts whose score moved live: the stages of their other leads are due."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from leadflow.models.db import Base


class AccountStageDue(Base):
    """An account a tracking call re-scored while stage criteria or routing read
    `account.score`: its other leads may now qualify, and the worker moves them (the call
    itself moves only the leads it scored, so its cost does not grow with the account)."""

    __tablename__ = "account_stage_due"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    since: Mapped[datetime]
