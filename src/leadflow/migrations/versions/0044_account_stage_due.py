"""`account_stage_due`: accounts whose score a tracking call moved while the playbook's stage
criteria or routing read `account.score`.

The call moves only the leads it scored (its cost does not grow with the account); the other
leads there may now qualify, and the worker moves them on its next sweep, as a re-score would.
A new, empty table: safe on a live database.

Revision ID: 0044
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0044"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "account_stage_due"


def upgrade() -> None:
    """Create the table."""
    op.create_table(
        TABLE,
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name="fk_account_stage_due_account_id_accounts",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name="pk_account_stage_due"),
    )


def downgrade() -> None:
    """Drop the table."""
    op.drop_table(TABLE)
