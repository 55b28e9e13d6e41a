"""People's data: tombstones of erased people, the anonymous counts left in their place, and
the ids of tracking messages acknowledged but not kept."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Mapped, mapped_column

from leadflow.models.db import Base


class Tombstone(Base):
    """The hash of an erased person's e-mail or identity key: their events are not stored."""

    __tablename__ = "tombstones"

    key_hash: Mapped[str] = mapped_column(primary_key=True)
    erased_at: Mapped[datetime]


class ForgottenMessage(Base):
    """A tracking message acknowledged and not kept: dropped as about an erased or do-not-track
    person, or erased with its person. Its id is remembered, by hash only, so a replay is
    answered as a stored message's replay is (a duplicate) and changes nothing."""

    __tablename__ = "forgotten_messages"

    source: Mapped[str] = mapped_column(primary_key=True)  # the write key, as events have it
    message_hash: Mapped[str] = mapped_column(primary_key=True)  # core.privacy.message_hash
    forgotten_at: Mapped[datetime]


class ErasedCount(Base):
    """Erased leads, counted by the dimensions the funnel reports group by, and no more.

    `created_month` is the first instant of the month the lead was created in, so period
    filters still place them; `reached_rank` is the furthest funnel rank they reached.
    """

    __tablename__ = "erased_counts"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_month: Mapped[datetime] = mapped_column(index=True)
    source: Mapped[str | None]
    medium: Mapped[str | None]
    campaign: Mapped[str | None]
    persona: Mapped[str | None]
    tier: Mapped[str | None]
    grade: Mapped[str | None]
    score_band: Mapped[int | None]
    reached_rank: Mapped[int]
    leads: Mapped[int]
    revenue: Mapped[float]
