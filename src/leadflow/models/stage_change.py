"""Stage changes: every move of a lead, with its reason and actor."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, text
from sqlalchemy.orm import Mapped, mapped_column

from leadflow.models.db import Base

# Velocity's time in a stage on PostgreSQL (migration 0035; SQLite's twin is migration 0033's,
# not declared): moves out of a stage with a known entry time, by the stage left, then the
# seconds spent in it, as `report_sql.seconds_between` spells them (word for word, or the
# index is not read). It INCLUDEs the two times the expression reads, so PostgreSQL plans an
# index-only scan (it asks for every column a query names, even under an indexed expression).
TIME_IN_STAGE_PG_INDEX = "ix_stage_changes_time_in_stage_pg"
MOVES_OUT_SQL = "from_stage IS NOT NULL AND previous_entered_at IS NOT NULL"


class StageChange(Base):
    """A lead moved from one stage to another."""

    __tablename__ = "stage_changes"
    __table_args__ = (
        # Moves into a stage over a period (MQLs this month, the plan's actuals, opportunities).
        Index("ix_stage_changes_to_stage_at", "to_stage", "at", "lead_id"),
        Index(
            TIME_IN_STAGE_PG_INDEX,
            "from_stage",
            text("CAST(EXTRACT(epoch FROM at - previous_entered_at) AS FLOAT)"),
            postgresql_include=["at", "previous_entered_at"],
            postgresql_where=text(MOVES_OUT_SQL),
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    from_stage: Mapped[str | None]
    to_stage: Mapped[str]
    at: Mapped[datetime]
    # When the lead entered `from_stage`: `at` minus this is the time it spent there.
    previous_entered_at: Mapped[datetime | None]
    reason: Mapped[str]
    actor: Mapped[str]
