"""Closed leads by outcome and time, for closed leads only (a partial index).

`ix_leads_outcome_closed_at` held every lead, so each score written for an open lead (every
live event, every re-score) updated an entry no report reads: the reports that use it ask for
won or lost leads. The partial `ix_leads_closed` replaces it. Built and dropped without
blocking writers on PostgreSQL (`CONCURRENTLY`, outside the transaction): safe on a live
database.

Revision ID: 0027
Revises: 0023 (whose index it replaces)
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op
from sqlalchemy import text

revision: str = "0027"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ["outcome", "closed_at", "total"]
CLOSED = "outcome IS NOT NULL"


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    """Build the partial index, then drop the whole one (concurrently on PostgreSQL)."""
    if _postgresql():
        with op.get_context().autocommit_block():
            op.create_index(
                "ix_leads_closed", "leads", COLUMNS, if_not_exists=True,
                postgresql_where=text(CLOSED), postgresql_concurrently=True,
            )  # fmt: skip
            op.drop_index(
                "ix_leads_outcome_closed_at", table_name="leads", if_exists=True,
                postgresql_concurrently=True,
            )  # fmt: skip
        return
    op.create_index(
        "ix_leads_closed", "leads", COLUMNS, if_not_exists=True, sqlite_where=text(CLOSED)
    )
    op.drop_index("ix_leads_outcome_closed_at", table_name="leads", if_exists=True)


def downgrade() -> None:
    """The whole index again."""
    op.create_index("ix_leads_outcome_closed_at", "leads", COLUMNS, if_not_exists=True)
    op.drop_index("ix_leads_closed", table_name="leads", if_exists=True)
