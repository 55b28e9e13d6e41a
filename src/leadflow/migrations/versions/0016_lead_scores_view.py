"""The CRM side: external record ids, "changed since" on leads, and the lead_scores view.

Revision ID: 0016
Revises: 0006
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from leadflow.models.lead_scores import LEAD_SCORES_VIEW

revision: str = "0016"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create external_ids, index leads.updated_at (concurrently on PostgreSQL), create the view."""
    op.create_table(
        "external_ids",
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("system", sa.String(40), nullable=False),
        sa.Column("external_id", sa.String(200), nullable=False),
        sa.ForeignKeyConstraint(
            ["lead_id"],
            ["leads.id"],
            name=op.f("fk_external_ids_lead_id_leads"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("lead_id", "system", name=op.f("pk_external_ids")),
        sa.UniqueConstraint(
            "system", "external_id", name=op.f("uq_external_ids_system_external_id")
        ),
    )
    if op.get_bind().dialect.name == "postgresql":
        # A live table: build the index without blocking writers (outside the transaction).
        with op.get_context().autocommit_block():
            op.create_index(
                "ix_leads_updated_at",
                "leads",
                ["updated_at", "id"],
                postgresql_concurrently=True,
                if_not_exists=True,
            )
    else:
        op.create_index("ix_leads_updated_at", "leads", ["updated_at", "id"])
    op.execute(LEAD_SCORES_VIEW)


def downgrade() -> None:
    """Drop the view, the index and the table."""
    op.execute("DROP VIEW IF EXISTS lead_scores")
    op.drop_index("ix_leads_updated_at", table_name="leads")
    op.drop_table("external_ids")
