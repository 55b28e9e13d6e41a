"""What each closed lead consumed before it closed (`closed_content`), for the content
report: one row per distinct (lead, kind, item), with the lead's outcome and creation, so
the report reads one covering index instead of every closed lead's events
(`repositories/closed_content.py` keeps it).

A new table (nothing live reads it until this revision's code runs), filled in by one
INSERT ... SELECT DISTINCT over the closed leads' events, then indexed (CONCURRENTLY on
PostgreSQL, outside the transaction), so the index is built once.

Revision ID: 0032
Revises: 0006
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0032"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out, not imported, so later changes to the models do not change what this did.
TABLE = "closed_content"
INDEX = "ix_closed_content_report"
INDEX_COLUMNS = ["kind", "item", "outcome", "created_at"]
BACKFILL = """
INSERT INTO closed_content (lead_id, kind, item, outcome, created_at)
SELECT DISTINCT events.lead_id,
       CASE WHEN events.type = 'page' THEN 'page' ELSE 'event' END,
       CASE WHEN events.type = 'page' THEN coalesce(events.path, '?')
            ELSE coalesce(events.name, events.type) END,
       leads.outcome, leads.created_at
FROM events JOIN leads ON leads.id = events.lead_id
WHERE leads.outcome IN ('won', 'lost') AND events.occurred_at <= leads.closed_at
  AND events.source NOT IN ('sales', 'note') AND events.type IN ('page', 'track')
"""


def upgrade() -> None:
    """Create the table, fill it in from the events, then index it."""
    op.create_table(
        TABLE,
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("item", sa.String(), nullable=False),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name="fk_closed_content_lead_id_leads", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("lead_id", "kind", "item", name="pk_closed_content"),
    )
    op.execute(BACKFILL)
    if op.get_bind().dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            op.create_index(
                INDEX, TABLE, INDEX_COLUMNS, if_not_exists=True, postgresql_concurrently=True
            )
        return
    op.create_index(INDEX, TABLE, INDEX_COLUMNS, if_not_exists=True)


def downgrade() -> None:
    """Drop the table (and its index)."""
    op.drop_index(INDEX, table_name=TABLE, if_exists=True)
    op.drop_table(TABLE)
