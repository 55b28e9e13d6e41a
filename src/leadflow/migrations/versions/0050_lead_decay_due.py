"""When a lead's engagement points next change: `leads.decay_due`, instead of one moment per
rule state (`rule_states.changes_at`, migration 0025).

The decay pass writes every lead whose shown score moved; it wrote each such lead's states'
next moments as well, a second row and a second index entry per lead (about 0.34 s of a 2 s
pass at a million leads). Kept on the lead, the moment goes in the UPDATE the lead gets anyway.
The lead's moment is the earliest of its states' (0: not known, the next pass reads it; NULL:
no states); a state not known made its lead's not known.

The backfill reads each lead's states once through the (lead, rule) key. On PostgreSQL the new
index is built CONCURRENTLY (writers not blocked), outside the transaction.

Revision ID: 0050
Revises: 0025
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0050"
down_revision: str | None = "0025"  # adds rule_states.changes_at, which this moves
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out, not imported, so later changes to the models do not change what this did.
INDEX = "ix_leads_decay_due"
OLD_INDEX = "ix_rule_states_changes_at"
WHERE = "decay_due IS NOT NULL"
NOT_KNOWN = 0
BACKFILL = f"""
UPDATE leads SET decay_due = (
    SELECT CASE WHEN count(*) = count(changes_at) THEN min(changes_at) ELSE {NOT_KNOWN} END
    FROM rule_states WHERE rule_states.lead_id = leads.id
)
WHERE id IN (SELECT lead_id FROM rule_states)
"""
RESTORE = f"""
UPDATE rule_states SET changes_at = (
    SELECT NULLIF(decay_due, {NOT_KNOWN}) FROM leads WHERE leads.id = rule_states.lead_id
)
"""


def upgrade() -> None:
    bind = op.get_bind()
    if "decay_due" not in {c["name"] for c in sa.inspect(bind).get_columns("leads")}:
        op.add_column("leads", sa.Column("decay_due", sa.BigInteger(), nullable=True))
    op.execute(BACKFILL)
    _create_index(bind.dialect.name == "postgresql")
    op.drop_index(OLD_INDEX, table_name="rule_states", if_exists=True)
    op.drop_column("rule_states", "changes_at")


def downgrade() -> None:
    # Each state gets its lead's moment: never later than its own, so no pass misses a change.
    op.add_column("rule_states", sa.Column("changes_at", sa.BigInteger(), nullable=True))
    op.execute(RESTORE)
    op.create_index(OLD_INDEX, "rule_states", ["changes_at"])
    op.drop_index(INDEX, table_name="leads", if_exists=True)
    op.drop_column("leads", "decay_due")


def _create_index(concurrently: bool) -> None:
    where = sa.text(WHERE)
    if not concurrently:
        op.create_index(INDEX, "leads", ["decay_due"], if_not_exists=True,
                        sqlite_where=where, postgresql_where=where)  # fmt: skip
        return
    with op.get_context().autocommit_block():
        op.create_index(INDEX, "leads", ["decay_due"], if_not_exists=True,
                        postgresql_concurrently=True, postgresql_where=where)  # fmt: skip
