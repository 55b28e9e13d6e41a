"""`ix_assignments_rep_load`: each rep's hand-offs by time, so routing reads a rep's load
(hand-offs since midnight in the rep's zone, the last one) from a range of this index. Before,
every hand-off read every hand-off ever made (no index held `rep_id` or `assigned_at`): the
cost of routing one lead grew with the company's history. Built without blocking writers on
PostgreSQL (`CONCURRENTLY`, outside the transaction): safe on a live database.

Revision ID: 0045
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0045"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out, not imported, so later changes to the models do not change what this did.
NAME = "ix_assignments_rep_load"
COLUMNS = ["rep_id", "assigned_at"]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.create_index(NAME, "assignments", COLUMNS, if_not_exists=True)
        return
    with op.get_context().autocommit_block():
        op.create_index(NAME, "assignments", COLUMNS, if_not_exists=True,
                        postgresql_concurrently=True)  # fmt: skip


def downgrade() -> None:
    op.drop_index(NAME, table_name="assignments", if_exists=True)
