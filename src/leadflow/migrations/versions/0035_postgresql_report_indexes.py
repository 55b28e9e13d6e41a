"""PostgreSQL's twins of SQLite's expression indexes for the funnel and velocity reports
(migrations 0031 and 0033), each on the expression PostgreSQL itself computes:

- `ix_leads_funnel_months_pg`: the month of creation in UTC (`date_trunc('month',
  timezone('UTC', created_at))`, immutable where `to_char` is not), then the stage,
  reached_rank, outcome and amount, so the funnel and cohorts read a million leads' groups in
  index order (a GroupAggregate, no hashing and no `to_char` per lead);
- `ix_stage_changes_time_in_stage_pg`: moves out of a stage with a known entry time, by the
  stage left, then the seconds spent in it (`CAST(EXTRACT(epoch FROM at -
  previous_entered_at) AS FLOAT)`, velocity's expression word for word), so velocity reads a
  count, a sum and a few ranks per stage instead of every move, and computes no numeric epoch.

Each INCLUDEs the columns its expression reads: PostgreSQL considers an index-only scan only
when every column a query names is in the index, even where it only needs the expression.
Declared in the models (PostgreSQL only); SQLite gets none. Indexes only, built without
blocking writers (`CONCURRENTLY`, outside the transaction): safe on a live database.

Revision ID: 0035
Revises: 0006
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0035"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out, not imported, so later changes to the models do not change what this did. The
# expressions must stay the ones the reports select (`repositories/report_sql.py`), word for
# word, or PostgreSQL computes them again for every row.
MONTHS = "ix_leads_funnel_months_pg"
MONTHS_SQL = (
    f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {MONTHS} ON leads"
    " ((date_trunc('month', timezone('UTC', created_at))), stage, reached_rank, outcome,"
    " outcome_amount) INCLUDE (created_at)"
)
TIME_IN_STAGE = "ix_stage_changes_time_in_stage_pg"
TIME_IN_STAGE_SQL = (
    f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {TIME_IN_STAGE} ON stage_changes"
    " (from_stage, (CAST(EXTRACT(epoch FROM at - previous_entered_at) AS FLOAT)))"
    " INCLUDE (at, previous_entered_at)"
    " WHERE from_stage IS NOT NULL AND previous_entered_at IS NOT NULL"
)


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    """Build them (PostgreSQL only, concurrently)."""
    if _postgresql():
        with op.get_context().autocommit_block():
            op.execute(MONTHS_SQL)
            op.execute(TIME_IN_STAGE_SQL)


def downgrade() -> None:
    """Drop them."""
    if _postgresql():
        op.drop_index(TIME_IN_STAGE, table_name="stage_changes", if_exists=True)
        op.drop_index(MONTHS, table_name="leads", if_exists=True)
