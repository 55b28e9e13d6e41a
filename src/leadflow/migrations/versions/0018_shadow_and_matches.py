"""Shadow playbooks (a candidate scored beside the active one) and how a lead met its account.

Revision ID: 0018
Revises: 0006
Create Date: 2026-11-28

Safe on a live PostgreSQL: new nullable columns, one boolean with a constant default (no
table rewrite since PostgreSQL 11), a new table and a partial index on a small table.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FLOAT: sa.Double[float] = sa.Double()
TIMESTAMP = sa.DateTime(timezone=True)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete="CASCADE"
    )


def upgrade() -> None:
    """Add playbook_versions.shadow, shadow_scores and leads.account_confidence/_reason."""
    op.add_column(
        "playbook_versions",
        sa.Column("shadow", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.create_index(
        "uq_playbook_versions_one_shadow",
        "playbook_versions",
        ["shadow"],
        unique=True,
        sqlite_where=sa.text("shadow"),
        postgresql_where=sa.text("shadow"),
    )
    op.create_table(
        "shadow_scores",
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("rule_key", sa.String(), nullable=True),
        sa.Column("states", sa.JSON(), nullable=False),
        sa.Column("total", FLOAT, nullable=False),
        sa.Column("grade", sa.String(), nullable=True),
        sa.Column("stage", sa.String(), nullable=False),
        sa.Column("mql_at", TIMESTAMP, nullable=True),
        sa.Column("active_total", FLOAT, nullable=False),
        sa.Column("active_stage", sa.String(), nullable=False),
        sa.Column("active_mql_at", TIMESTAMP, nullable=True),
        sa.Column("scored_at", TIMESTAMP, nullable=False),
        _fk("shadow_scores", "lead_id", "leads"),
        _fk("shadow_scores", "version_id", "playbook_versions"),
        sa.PrimaryKeyConstraint("lead_id", name=op.f("pk_shadow_scores")),
    )
    op.create_index(
        op.f("ix_shadow_scores_version_id"), "shadow_scores", ["version_id"], unique=False
    )
    op.add_column("leads", sa.Column("account_confidence", FLOAT, nullable=True))
    op.add_column("leads", sa.Column("account_reason", sa.String(), nullable=True))


def downgrade() -> None:
    """Drop them."""
    op.drop_column("leads", "account_reason")
    op.drop_column("leads", "account_confidence")
    op.drop_index(op.f("ix_shadow_scores_version_id"), table_name="shadow_scores")
    op.drop_table("shadow_scores")
    op.drop_index("uq_playbook_versions_one_shadow", table_name="playbook_versions")
    op.drop_column("playbook_versions", "shadow")
