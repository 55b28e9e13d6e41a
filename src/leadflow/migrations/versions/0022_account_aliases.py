"""Account aliases: the domains of merged accounts, pointing at the account they joined.

A new table only (no rewrite of a table in use), so it is safe on a live PostgreSQL.

Revision ID: 0022
Revises: 0006
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create account_aliases."""
    op.create_table(
        "account_aliases",
        sa.Column("domain", sa.String(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_account_aliases_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("domain", name=op.f("pk_account_aliases")),
    )  # fmt: skip
    op.create_index(op.f("ix_account_aliases_account_id"), "account_aliases", ["account_id"])


def downgrade() -> None:
    """Drop it."""
    op.drop_table("account_aliases")
