"""Each lead's latest event and latest page view (`leads.last_event_at`,
`leads.last_page_view_at`), for the stale leads of the data-quality report and the visiting
leads of the plan: ranges of an index instead of a look into every lead's events. And a
covering index of the lead fields data quality counts (`ix_leads_quality`), so its pass reads
them, not the wide rows.

The columns are nullable (no table rewrite) and filled in by one UPDATE joined to the events
grouped by lead (one pass over `ix_events_lead_timeline`), not one statement per lead. The
indexes are built without blocking writers on PostgreSQL (`CONCURRENTLY`, outside the
transaction), after the backfill, so they are built once.

Revision ID: 0029
Revises: 0006
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0029"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out, not imported, so later changes to the models do not change what this did.
INDEXES = [
    ("ix_leads_last_event", ["last_event_at", "created_at", "stage", "outcome"]),
    ("ix_leads_last_page_view", ["last_page_view_at", "id"]),
    ("ix_leads_quality", ["created_at", "account_id", "source", "medium", "campaign", "persona",
                          "email", "first_name", "last_name", "title", "phone", "country"]),
]  # fmt: skip
BACKFILL = """
UPDATE leads SET last_event_at = latest.event_at, last_page_view_at = latest.page_view_at
FROM (
    SELECT lead_id, max(occurred_at) AS event_at,
           max(CASE WHEN type = 'page' THEN occurred_at END) AS page_view_at
    FROM events WHERE lead_id IS NOT NULL GROUP BY lead_id
) AS latest
WHERE latest.lead_id = leads.id
"""


def upgrade() -> None:
    """Add the columns, fill them in from the events, then index them."""
    for column in ("last_event_at", "last_page_view_at"):
        op.add_column("leads", sa.Column(column, sa.DateTime(timezone=True), nullable=True))
    op.execute(BACKFILL)
    if op.get_bind().dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            for name, columns in INDEXES:
                op.create_index(
                    name, "leads", columns, if_not_exists=True, postgresql_concurrently=True
                )
        return
    for name, columns in INDEXES:
        op.create_index(name, "leads", columns, if_not_exists=True)


def downgrade() -> None:
    """Drop the indexes and the columns."""
    for name, _ in reversed(INDEXES):
        op.drop_index(name, table_name="leads", if_exists=True)
    for column in ("last_page_view_at", "last_event_at"):
        op.drop_column("leads", column)
