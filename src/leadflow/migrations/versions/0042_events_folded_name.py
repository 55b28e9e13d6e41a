"""`ix_events_folded_name`: events by their name folded to lower case.

A bulk stage pass (after `rescore`, an import, `playbook apply`) looks for the hand-raisers'
events (a demo request: matched by type and case-insensitive name) of every open lead. With
only `ix_events_name` (the name as sent) the query could not use an index for `lower(name)`
and read every event of every open lead instead: 2.9 s at 50,000 leads and 956,335 events,
against 0.2 s by this index. Built without blocking writers on PostgreSQL (`CONCURRENTLY`,
outside the transaction): safe on a live database.

Revision ID: 0042
Revises: 0006
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0042"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out, not imported, so later changes to the models do not change what this did.
NAME = "ix_events_folded_name"


def upgrade() -> None:
    """Build the index (concurrently on PostgreSQL)."""
    folded = [sa.text("lower(name)")]
    if op.get_bind().dialect.name != "postgresql":
        op.create_index(NAME, "events", folded, if_not_exists=True)
        return
    with op.get_context().autocommit_block():
        op.create_index(NAME, "events", folded, if_not_exists=True, postgresql_concurrently=True)


def downgrade() -> None:
    """The index gone (in the transaction)."""
    op.drop_index(NAME, table_name="events", if_exists=True)
