"""`ix_leads_quality` without `persona`: scoring writes a lead's persona, and every bulk scoring
that set one (an import's first scores, a first re-score) set this twelve-column index aside and
built it again, about 4.6 s at a million leads, for the one column of it scoring writes. The
data-quality report counts whole months from the tallies (migration 0039), which hold persona;
only the ragged ends of a range filtered by persona now read the rows of those leads.

On SQLite the index is dropped and built again in the migration's transaction; on PostgreSQL
the new one is built CONCURRENTLY under another name (writers not blocked), then the old one
dropped and the new one renamed.

Revision ID: 0048
Revises: 0029
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0048"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out, not imported, so later changes to the models do not change what this did.
NAME = "ix_leads_quality"
BUILDING = "ix_leads_quality_rebuilt"
COHORT = ["created_at", "account_id", "source", "medium", "campaign"]
FIELDS = ["email", "first_name", "last_name", "title", "phone", "country"]


def upgrade() -> None:
    _replace_index([*COHORT, *FIELDS], concurrently=op.get_bind().dialect.name == "postgresql")


def downgrade() -> None:
    _replace_index([*COHORT, "persona", *FIELDS], concurrently=False)


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
