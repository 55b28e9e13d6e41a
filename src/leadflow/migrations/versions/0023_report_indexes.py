"""Indexes for the pages' reports: the funnel's covering index on leads, closed leads by time,
moves into a stage by time, campaign touches and anonymous page views (partial indexes).

Indexes only, built without blocking writers on PostgreSQL (`CREATE INDEX CONCURRENTLY`,
outside the transaction), so it is safe on a live database.

Revision ID: 0023
Revises: 0006
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from alembic import op
from sqlalchemy import text

revision: str = "0023"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (name, table, columns, partial condition): written out, not imported, so later changes
# to the models do not change what this revision did.
INDEXES: list[tuple[str, str, list[str], str | None]] = [
    ("ix_leads_reports", "leads",
     ["created_at", "stage", "reached_rank", "outcome", "outcome_amount", "source", "medium",
      "campaign", "persona", "grade", "total"], None),
    ("ix_leads_outcome_closed_at", "leads", ["outcome", "closed_at", "total"], None),
    ("ix_stage_changes_to_stage_at", "stage_changes", ["to_stage", "at", "lead_id"], None),
    ("ix_events_campaign_touches", "events", ["lead_id", "occurred_at", "campaign"],
     "campaign IS NOT NULL"),
    ("ix_events_anonymous_pages", "events", ["anonymous_id", "occurred_at"],
     "type = 'page' AND lead_id IS NULL"),
]  # fmt: skip


def upgrade() -> None:
    """Create the indexes (concurrently on PostgreSQL)."""
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name, table, columns, where in INDEXES:
        options: dict[str, Any] = {"if_not_exists": True}
        if where is not None:
            options["sqlite_where" if not postgresql else "postgresql_where"] = text(where)
        if postgresql:
            # A live table: build without blocking writers (outside the transaction).
            with op.get_context().autocommit_block():
                op.create_index(name, table, columns, postgresql_concurrently=True, **options)
        else:
            op.create_index(name, table, columns, **options)


def downgrade() -> None:
    """Drop them."""
    for name, table, _, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table, if_exists=True)
