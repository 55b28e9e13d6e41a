"""What a shadow playbook (a candidate beside the active one) made of each lead it scored."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from leadflow.models.db import Base


class ShadowScore(Base):
    """One lead as both playbooks saw it at its latest live event or edit.

    `states` are the shadow's own engagement states (rule id -> the stored form of
    `core.engagement_state.RuleState`), valid for the rules fingerprinted by `rule_key`
    (None: forgotten, rebuilt from the events at the next scoring). `stage` and
    `active_stage` are where each playbook's automatic rules would have the lead (nothing is
    moved); `mql_at` and `active_mql_at` are when each first made it an MQL or better.
    """

    __tablename__ = "shadow_scores"

    lead_id: Mapped[int] = mapped_column(
        ForeignKey("leads.id", ondelete="CASCADE"), primary_key=True
    )
    version_id: Mapped[int] = mapped_column(
        ForeignKey("playbook_versions.id", ondelete="CASCADE"), index=True
    )
    rule_key: Mapped[str | None]
    states: Mapped[dict[str, Any]]
    total: Mapped[float]
    grade: Mapped[str | None]
    stage: Mapped[str]
    mql_at: Mapped[datetime | None]
    active_total: Mapped[float]
    active_stage: Mapped[str]
    active_mql_at: Mapped[datetime | None]
    scored_at: Mapped[datetime]
