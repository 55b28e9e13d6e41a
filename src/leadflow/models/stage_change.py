"""Stage changes: every move of a lead, with its reason and actor."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, text
from sqlalchemy.orm import Mapped, mapped_column

from leadflow.models.db import Base

# Moves out of the funnel that sales explain (the lead-quality report,
# `repositories/reports.exit_reasons`): into these stages. The predicate of the partial index
# `EXITS_INDEX` and, written the same, the report's condition (literals: SQLite uses a partial
# index only when the query's WHERE holds its very terms).
EXIT_STAGES = ("nurture", "disqualified")
EXITS_SQL = "to_stage IN ({})".format(", ".join(f"'{stage}'" for stage in EXIT_STAGES))
EXITS_INDEX = "ix_stage_changes_exits"

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
    # Moves into a stage over a period (MQLs this month, the plan's actuals, opportunities).
    __table_args__ = (
        Index("ix_stage_changes_to_stage_at", "to_stage", "at", "lead_id"),
        # The exits by lead, with what the quality report filters and groups on: read in lead
        # order, the leads they join come in the table's order (migration 0036).
        Index(
            EXITS_INDEX,
            "lead_id",
            "to_stage",
            "actor",
            "from_stage",
            "reason",
            sqlite_where=text(EXITS_SQL),
            postgresql_where=text(EXITS_SQL),
        ),
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
