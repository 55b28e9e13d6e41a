"""A lead's record id in another system (a CRM), kept from imports so a sync can match records."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from leadflow.models.db import Base


class ExternalId(Base):
    """One id per lead and system (`hubspot`, `salesforce`, ...); an id names one lead."""

    __tablename__ = "external_ids"
    __table_args__ = (UniqueConstraint("system", "external_id"),)

    lead_id: Mapped[int] = mapped_column(
        ForeignKey("leads.id", ondelete="CASCADE"), primary_key=True
    )
    system: Mapped[str] = mapped_column(String(40), primary_key=True)
    external_id: Mapped[str] = mapped_column(String(200))
