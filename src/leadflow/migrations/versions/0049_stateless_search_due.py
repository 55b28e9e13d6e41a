"""`stateless_search_due`: bulk runs that scored leads as of another moment (`rescore --at`).

A lead without rule states is found by the decay pass only by a search that reads every lead,
made hourly; after `rescore --at` such a lead kept that moment's score for up to an hour. A row
here makes the worker's next pass search too (it takes the row once the search is done).
A new, empty table only: safe on a live database, nothing to fill in.

Revision ID: 0049
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0049"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "stateless_search_due"


def upgrade() -> None:
    """Create the table (ids never reused: AUTOINCREMENT on SQLite)."""
    op.create_table(
        TABLE,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scored_as_of", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_stateless_search_due"),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    """Drop the table."""
    op.drop_table(TABLE)
