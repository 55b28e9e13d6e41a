"""Times the reports read, kept by SQLite in indexes on expressions: each move's time in the
stage it left and each won lead's time to the win (velocity), each hand-off's time to its
first touch (speed to lead).

Each index holds the very expression the report selects (`CAST((julianday(later) -
julianday(earlier)) * 86400.0 AS FLOAT)`), computed by SQLite as each row is written,
changed or deleted, on every path (nothing of ours to keep up to date), so the report reads
the index instead of the rows and parses no date:

- `ix_stage_changes_time_in_stage`: moves out of a stage with a known entry time, by the
  stage left, then the time. Sorted so, it gives each stage's sum and the few ranks its
  percentiles need (for every lead: a narrower cohort still reads its leads' moves).
- `ix_leads_time_to_win`: won leads with a closing time, by the time from creation to the
  win, then the columns a cohort filters on.
- `ix_assignments_time_to_touch`: each hand-off's lead, rep, team and status, then its time
  from the hand-off to the first touch.

PostgreSQL gets none (it reads the rows as before): an expression index is not declared in
the models (Alembic's comparison on SQLite cannot read one back), and PostgreSQL's would be
reported as missing from them. Indexes only: no row changes.

Revision ID: 0033
Revises: 0006
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0033"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out, not imported, so later changes to the code do not change what this did. The
# expressions must stay the ones `repositories/velocity_reads.py` and `handoff_columns.py`
# select, word for word (else SQLite computes them again per row).
INDEX = "ix_stage_changes_time_in_stage"
TO_WIN = "ix_leads_time_to_win"
TO_WIN_SQL = (
    f"CREATE INDEX IF NOT EXISTS {TO_WIN} ON leads"
    " (CAST((julianday(closed_at) - julianday(created_at)) * 86400.0 AS FLOAT), created_at,"
    " source, medium, campaign, persona, account_id)"
    " WHERE outcome = 'won' AND closed_at IS NOT NULL"
)
TO_TOUCH = "ix_assignments_time_to_touch"
TO_TOUCH_SQL = (
    f"CREATE INDEX IF NOT EXISTS {TO_TOUCH} ON assignments (lead_id, rep_id, team, status,"
    " CAST((julianday(first_touch_at) - julianday(assigned_at)) * 86400.0 AS FLOAT))"
)
INDEX_SQL = (
    f"CREATE INDEX IF NOT EXISTS {INDEX} ON stage_changes (from_stage,"
    " CAST((julianday(at) - julianday(previous_entered_at)) * 86400.0 AS FLOAT))"
    " WHERE from_stage IS NOT NULL AND previous_entered_at IS NOT NULL"
)


def upgrade() -> None:
    """Build it (SQLite only)."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(INDEX_SQL)
        op.execute(TO_WIN_SQL)
        op.execute(TO_TOUCH_SQL)


def downgrade() -> None:
    """Drop it."""
    if op.get_bind().dialect.name == "sqlite":
        op.drop_index(INDEX, table_name="stage_changes", if_exists=True)
        op.drop_index(TO_WIN, table_name="leads", if_exists=True)
        op.drop_index(TO_TOUCH, table_name="assignments", if_exists=True)
