"""Predictive scoring: versioned models and each lead's probability with its reasons.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)
FLOAT: sa.Double[float] = sa.Double()


def upgrade() -> None:
    """Create predictive_models; leads get probability and probability_reasons."""
    op.create_table(
        "predictive_models",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("bins", sa.JSON(), nullable=False),
        sa.Column("weights", sa.JSON(), nullable=False),
        sa.Column("intercept", FLOAT, nullable=False),
        sa.Column("behaviours", sa.JSON(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_predictive_models")),
        sa.UniqueConstraint("version", name=op.f("uq_predictive_models_version")),
    )
    op.add_column("leads", sa.Column("probability", FLOAT, nullable=True))
    op.add_column("leads", sa.Column("probability_reasons", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Drop them (columns in place: a batch copy of leads would cascade-delete its events)."""
    op.execute("ALTER TABLE leads DROP COLUMN probability_reasons")
    op.execute("ALTER TABLE leads DROP COLUMN probability")
    op.drop_table("predictive_models")
