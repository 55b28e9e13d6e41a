"""Per-rule engagement state of each lead, and each account's buying-group roll-up."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from leadflow.models.db import Base


class RuleState(Base):
    """What one engagement rule knows of one lead (see `core.engagement_state.RuleState`).

    `rule_key` fingerprints the rule it was folded for: a changed rule's state is rebuilt.
    `anchored` is the decayed sum at `band * STEP` half-lives, `window_from` the time (epoch
    microseconds) of the window count-th latest event: both let a refresh age scores without
    events. The moment before which a lead's states' points cannot change without new events
    is the lead's (`Lead.decay_due`), so a decay pass reads only the leads whose points may
    have moved.
    """

    __tablename__ = "rule_states"

    lead_id: Mapped[int] = mapped_column(
        ForeignKey("leads.id", ondelete="CASCADE"), primary_key=True
    )
    rule_id: Mapped[str] = mapped_column(primary_key=True)
    rule_key: Mapped[str]
    count: Mapped[int]
    band: Mapped[int | None]
    anchored: Mapped[float | None]
    window_from: Mapped[int | None] = mapped_column(BigInteger)
    partials: Mapped[list[list[float]]] = mapped_column(JSON)
    latest: Mapped[list[Any]] = mapped_column(JSON)


class AccountMember(Base):
    """How much of one lead's engagement its account's roll-up counts, in hundredths."""

    __tablename__ = "account_members"

    lead_id: Mapped[int] = mapped_column(
        ForeignKey("leads.id", ondelete="CASCADE"), primary_key=True
    )
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    hundredths: Mapped[int] = mapped_column(BigInteger)
    engaged: Mapped[bool]


class AccountRollup(Base):
    """An account's counted leads: their positive engagement summed in hundredths, engaged."""

    __tablename__ = "account_rollups"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    hundredths: Mapped[int] = mapped_column(BigInteger)
    engaged: Mapped[int]
    leads: Mapped[int]
    engaged_min: Mapped[float]  # the threshold `engaged` was counted with
