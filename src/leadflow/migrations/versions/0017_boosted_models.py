"""Gradient-boosted models: their trees, and each lead's probability contributions.

Revision ID: 0017
Revises: 0006
Create Date: 2026-11-28

Both columns are nullable with no default: on PostgreSQL adding them only changes the
catalogue (no table rewrite, a brief lock), so it is safe on a live database.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """predictive_models.trees (a boosted model's pruned dump and feature encoding);
    leads.probability_contributions (log-odds per feature, adding up to the probability)."""
    op.add_column("predictive_models", sa.Column("trees", sa.JSON(), nullable=True))
    op.add_column("leads", sa.Column("probability_contributions", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Drop them (in place: a batch copy of leads would cascade-delete its events)."""
    op.execute("ALTER TABLE leads DROP COLUMN probability_contributions")
    op.execute("ALTER TABLE predictive_models DROP COLUMN trees")
