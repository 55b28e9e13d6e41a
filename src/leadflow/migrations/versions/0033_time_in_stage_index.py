"""The time each move spent in the stage it left, and each won lead's time to the win, kept
by SQLite in indexes (velocity).

Velocity read every stage change's row and parsed two dates per move (`julianday`) on every
request, and brought every move to Python. `ix_stage_changes_time_in_stage` (SQLite only)
holds, for the moves out of a stage with a known entry time, the stage left, then the very
expression velocity reads, `CAST((julianday(at) - julianday(previous_entered_at)) * 86400.0
AS FLOAT)`, computed by SQLite as each row is written (on every path that writes, changes or
deletes one: nothing of ours to keep up to date). Sorted so, it gives each stage's sum and
the few ranks its percentiles need without a row read (for every lead: a narrower cohort
still reads its leads' moves as before).
`ix_leads_time_to_win` does the same for the won leads' time from creation to the win
(velocity's lead_to_customer: a row read per won lead, scattered over the table), then the
columns a cohort filters on.
PostgreSQL gets nothing here (it reads the rows as before): an expression index is not
declared in the models (Alembic's comparison on SQLite cannot read one back), and
PostgreSQL's would be reported as missing from them. An index only: no row changes.

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

# Written out, not imported, so later changes to the code do not change what this did; the
# expression must stay the one `repositories/velocity_reads.py` selects, word for word.
INDEX = "ix_stage_changes_time_in_stage"
TO_WIN = "ix_leads_time_to_win"
TO_WIN_SQL = (
    f"CREATE INDEX IF NOT EXISTS {TO_WIN} ON leads"
    " (CAST((julianday(closed_at) - julianday(created_at)) * 86400.0 AS FLOAT), created_at,"
    " source, medium, campaign, persona, account_id)"
    " WHERE outcome = 'won' AND closed_at IS NOT NULL"
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


def downgrade() -> None:
    """Drop it."""
    if op.get_bind().dialect.name == "sqlite":
        op.drop_index(INDEX, table_name="stage_changes", if_exists=True)
        op.drop_index(TO_WIN, table_name="leads", if_exists=True)
