"""When each stored rule state's points next change: `rule_states.changes_at`, indexed.

The worker's decay pass reads only the leads with a state whose points may have changed
(`changes_at` at or before its `now`, or NULL: not yet known), not every lead's states. The
column is added empty (NULL: the first pass after the upgrade reads every lead once and fills
it in); no rewrite of the table, and the index is built without blocking writers on
PostgreSQL (`CREATE INDEX CONCURRENTLY`, outside the transaction), so it is safe on a live
database.

It revises 0009, not 0006 like the other heads: it alters the table 0009 creates, and
Alembic runs the heads that share a parent in no promised order (on a fresh database it ran
this one before 0009).

Revision ID: 0025
Revises: 0009
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0009"  # creates rule_states (see above)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_rule_states_changes_at"


def upgrade() -> None:
    """Add the column (NULL: no table rewrite) and its index (concurrently on PostgreSQL)."""
    bind = op.get_bind()
    if "changes_at" not in {c["name"] for c in sa.inspect(bind).get_columns("rule_states")}:
        op.add_column("rule_states", sa.Column("changes_at", sa.BigInteger(), nullable=True))
    if bind.dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            op.create_index(INDEX, "rule_states", ["changes_at"], if_not_exists=True,
                            postgresql_concurrently=True)  # fmt: skip
    else:
        op.create_index(INDEX, "rule_states", ["changes_at"], if_not_exists=True)


def downgrade() -> None:
    """Drop the index and the column."""
    op.drop_index(INDEX, table_name="rule_states", if_exists=True)
    op.drop_column("rule_states", "changes_at")
