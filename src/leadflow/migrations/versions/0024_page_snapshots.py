"""Page snapshots: the dashboard's all-time figures and the plan's visitors, computed by the
worker in the background (see services/reports/snapshots.py).

A new, empty table only (no existing table is touched, nothing is rewritten), so it is safe on
a live PostgreSQL. Nothing to backfill: the worker's first pass fills it, and until then the
pages compute their figures when asked, as before.

Revision ID: 0024
Revises: 0006
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create page_snapshots."""
    op.create_table(
        "page_snapshots",
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("as_of", TIMESTAMP, nullable=False),
        sa.Column("took_ms", sa.Integer(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_page_snapshots")),
    )


def downgrade() -> None:
    """Drop it."""
    op.drop_table("page_snapshots")
