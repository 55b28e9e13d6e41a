"""Engagement state per lead and rule, and the accounts' buying-group roll-ups.

Revision ID: 0009
Revises: 0006
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FLOAT: sa.Double[float] = sa.Double()


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete="CASCADE"
    )


def upgrade() -> None:
    """Create rule_states, account_members and account_rollups (filled by the next re-score)."""
    op.create_table(
        "rule_states",
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.String(), nullable=False),
        sa.Column("rule_key", sa.String(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("band", sa.Integer(), nullable=True),
        sa.Column("anchored", FLOAT, nullable=True),
        sa.Column("window_from", sa.BigInteger(), nullable=True),
        sa.Column("partials", sa.JSON(), nullable=False),
        sa.Column("latest", sa.JSON(), nullable=False),
        _fk("rule_states", "lead_id", "leads"),
        sa.PrimaryKeyConstraint("lead_id", "rule_id", name=op.f("pk_rule_states")),
    )
    op.create_table(
        "account_members",
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("hundredths", sa.BigInteger(), nullable=False),
        sa.Column("engaged", sa.Boolean(), nullable=False),
        _fk("account_members", "lead_id", "leads"),
        _fk("account_members", "account_id", "accounts"),
        sa.PrimaryKeyConstraint("lead_id", name=op.f("pk_account_members")),
    )
    op.create_index(
        op.f("ix_account_members_account_id"), "account_members", ["account_id"], unique=False
    )
    op.create_table(
        "account_rollups",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("hundredths", sa.BigInteger(), nullable=False),
        sa.Column("engaged", sa.Integer(), nullable=False),
        sa.Column("leads", sa.Integer(), nullable=False),
        sa.Column("engaged_min", FLOAT, nullable=False),
        _fk("account_rollups", "account_id", "accounts"),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_account_rollups")),
    )


def downgrade() -> None:
    """Drop them."""
    op.drop_table("account_rollups")
    op.drop_index(op.f("ix_account_members_account_id"), table_name="account_members")
    op.drop_table("account_members")
    op.drop_table("rule_states")
