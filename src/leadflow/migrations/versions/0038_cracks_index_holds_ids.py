"""PostgreSQL: `ix_leads_cracks` (a stage's leads: owner, e-mail, stage_changed_at) also holds
each lead's id (`INCLUDE (id)`), so the fallen-through report reads a stage's leads from the
index alone (an index-only scan), not each lead's heap row: it joins every sales-ready lead to
its latest hand-off by id, and PostgreSQL considers an index-only scan only when the index
holds every column the query names. SQLite's indexes hold the rowid (the id) already: no
change there.

The new index is built beside the old one without blocking writers (`CONCURRENTLY`, outside
the transaction), then the old one dropped the same way and the new one given its name, so
the report always has one. Safe on a live database.

Revision ID: 0038
Revises: 0034
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0038"
down_revision: str | None = "0034"  # which made the index
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out, not imported, so later changes to the models do not change what this did.
NAME = "ix_leads_cracks"
BUILDING = "ix_leads_cracks_ids"
COLUMNS = ["stage", "owner", "email", "stage_changed_at"]


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    """Build the index with the ids, drop the old, rename (PostgreSQL only, concurrently)."""
    if not _postgresql():
        return
    with op.get_context().autocommit_block():
        op.create_index(
            BUILDING, "leads", COLUMNS, postgresql_include=["id"], if_not_exists=True,
            postgresql_concurrently=True,
        )  # fmt: skip
        op.drop_index(NAME, table_name="leads", if_exists=True, postgresql_concurrently=True)
        op.execute(f"ALTER INDEX IF EXISTS {BUILDING} RENAME TO {NAME}")


def downgrade() -> None:
    """The index as 0034 made it."""
    if _postgresql():
        op.drop_index(NAME, table_name="leads", if_exists=True)
        op.create_index(NAME, "leads", COLUMNS)
