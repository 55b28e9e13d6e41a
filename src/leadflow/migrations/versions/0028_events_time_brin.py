"""Events by time as a BRIN index on PostgreSQL (SQLite, which has no BRIN, keeps its B-tree).

Events arrive in time order, so each block range of the table covers a short span of time and
a BRIN index finds a range of time as well as a B-tree does, at a sliver of its size: at 10M
events 123 kB against 224 MB, and nothing to update in it per event but a range's summary.
No query orders every event by time (a lead's timeline has its own index), so nothing needs
the B-tree's order. Built, swapped and dropped without blocking writers (`CONCURRENTLY`,
outside the transaction; the rename takes a brief lock on the index only): safe on a live
database.

Revision ID: 0028
Revises: 0021 (the last to change events' columns)
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0028"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_events_occurred_at"
NEW = "ix_events_occurred_at_brin"


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    """BRIN on PostgreSQL."""
    if not _postgresql():
        return  # SQLite keeps its B-tree
    with op.get_context().autocommit_block():
        op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {NEW}")
        op.execute(f"CREATE INDEX CONCURRENTLY {NEW} ON events USING brin (occurred_at)")
        op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {NAME}")
        op.execute(f"ALTER INDEX {NEW} RENAME TO {NAME}")


def downgrade() -> None:
    """The B-tree again (in the downgrade's transaction, as the other revisions' are)."""
    if _postgresql():
        op.execute(f"DROP INDEX IF EXISTS {NAME}")
        op.execute(f"CREATE INDEX {NAME} ON events (occurred_at)")
