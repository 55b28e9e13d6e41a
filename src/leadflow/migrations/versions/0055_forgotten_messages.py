"""`forgotten_messages`: ids (hashed) of tracking messages acknowledged and not kept.

`/v1` answered a message about an erased or do-not-track person `stored: 0`, and the same
again when it was replayed, where any other message answers `stored: 1` and then
`duplicates: 1`: anyone holding the public write key could test whether an address was
erased or had opted out. Such a message is now answered as a stored one, and its id is kept
here (SHA-256 only, beside the write key it came with) so its replay is a duplicate too; so
are the ids of the events an erasure deletes. A new, empty table only: safe on a live
database, nothing to fill in.

Revision ID: 0055
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0055"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "forgotten_messages"


def upgrade() -> None:
    """Create the table, keyed as events dedupe: by source, then the message id's hash."""
    op.create_table(
        TABLE,
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("message_hash", sa.String(), nullable=False),
        sa.Column("forgotten_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("source", "message_hash", name="pk_forgotten_messages"),
    )


def downgrade() -> None:
    """Drop the table."""
    op.drop_table(TABLE)
