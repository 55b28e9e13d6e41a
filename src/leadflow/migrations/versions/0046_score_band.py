"""`leads.score_band`: each lead's score band stored beside its total, and the funnel reports'
covering index (`ix_leads_reports`) holding the band instead of the total.

The worker's decay pass writes the totals of tens of thousands of leads every few minutes;
while the index held `total`, each of those writes moved the lead's entry in this wide index
(about a third of the pass's UPDATE, measured). A band moves far less often than a total, and
the writers set it only when it moves. The reports grouped by score band read the stored band
(before: `floor(total / 20) * 20` at read time, the same number).

On SQLite the index is dropped and built again in the migration's transaction; on PostgreSQL
the new index is built CONCURRENTLY (outside the transaction, writers not blocked) under a new
name, then the old one dropped and the new one renamed.

Revision ID: 0046
Revises: 0023
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0046"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out, not imported, so later changes to the models do not change what this did.
NAME = "ix_leads_reports"
BUILDING = "ix_leads_reports_banded"
FIRST = ["created_at", "stage", "reached_rank", "outcome", "outcome_amount", "source", "medium",
         "campaign", "persona", "grade"]  # fmt: skip
WIDTH, LIMIT = 20, 2_000_000_000
# `core.scoring.score_band`: floor(total / 20) * 20, clamped to +-LIMIT. SQLite without its
# math functions has no floor(), so truncation, one lower for a negative quotient that is not
# whole. PostgreSQL refuses a quotient that underflows: a total nearer zero than 1e-300 (never
# a score, whose points are hundredths) is given band 0 without dividing.
SQLITE_FLOOR = (
    f"(CAST(total / {WIDTH} AS INTEGER)"
    f" - (total / {WIDTH} < CAST(total / {WIDTH} AS INTEGER))) * {WIDTH}"
)
POSTGRESQL_FLOOR = f"CAST(floor(total / {WIDTH}) * {WIDTH} AS INTEGER)"
CLAMPED = (
    f"CASE WHEN total >= {LIMIT} THEN {LIMIT} WHEN total <= -{LIMIT} THEN -{LIMIT}"
    " WHEN total > -1e-300 AND total < 1e-300 THEN 0"
    " ELSE {} END"
)


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.add_column(
        "leads", sa.Column("score_band", sa.Integer(), nullable=False, server_default="0")
    )
    band = CLAMPED.format(POSTGRESQL_FLOOR if postgresql else SQLITE_FLOOR)
    op.execute(f"UPDATE leads SET score_band = {band} WHERE total IS NOT NULL AND total <> 0")
    _replace_index([*FIRST, "score_band"], concurrently=postgresql)


def downgrade() -> None:
    _replace_index([*FIRST, "total"], concurrently=False)
    op.drop_column("leads", "score_band")


def _replace_index(columns: list[str], *, concurrently: bool) -> None:
    if not concurrently:
        op.drop_index(NAME, table_name="leads", if_exists=True)
        op.create_index(NAME, "leads", columns)
        return
    with op.get_context().autocommit_block():
        op.drop_index(BUILDING, table_name="leads", if_exists=True, postgresql_concurrently=True)
        op.create_index(BUILDING, "leads", columns, postgresql_concurrently=True)
        op.drop_index(NAME, table_name="leads", if_exists=True, postgresql_concurrently=True)
    op.execute(f"ALTER INDEX {BUILDING} RENAME TO {NAME}")
