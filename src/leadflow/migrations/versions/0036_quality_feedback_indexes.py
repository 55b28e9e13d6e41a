"""What the lead-quality report reads, indexed so it does not look up every exit's row and
every lead's wide row at random (`repositories/reports.exit_reasons` and `lost_reasons`):

- `ix_stage_changes_exits`: moves into nurture or disqualified (a handful of all moves), by
  lead, holding what the report filters and groups on (stage, actor, the stage left, the
  reason). Read in lead order, the leads' rows it joins (source, campaign) come in the
  order of the table, each page read once, instead of a random page per exit.
- `ix_leads_exit_groups`: each lead's source and campaign by id, narrow: the exits' leads
  (tens of thousands at a million leads) are found in a few thousand of its pages, not in
  one wide row's page each.
- `ix_leads_outcome_reasons`: closed leads by outcome and its reason, so the lost reasons
  are one range of it, already grouped.

On both engines (declared in the models). The first and last are partial: only those
moves and closed leads have entries, so a stage move to anywhere else and a score write
change neither; the second gains an entry per new lead (at its end: ids only grow) and
changes with a lead's source or campaign, nothing else. Indexes only, built without
blocking writers on PostgreSQL (`CONCURRENTLY`, outside the transaction).

Revision ID: 0036
Revises: 0006
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0036"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out, not imported, so later changes to the models do not change what this did.
EXITS = "ix_stage_changes_exits"
EXITS_COLUMNS = ["lead_id", "to_stage", "actor", "from_stage", "reason"]
EXITED = sa.text("to_stage IN ('nurture', 'disqualified')")
GROUPS = "ix_leads_exit_groups"
GROUPS_COLUMNS = ["id", "source", "campaign"]
REASONS = "ix_leads_outcome_reasons"
REASONS_COLUMNS = ["outcome", "outcome_reason"]
CLOSED = sa.text("outcome IS NOT NULL")


def upgrade() -> None:
    """Build them (concurrently on PostgreSQL)."""
    if op.get_bind().dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            op.create_index(
                EXITS, "stage_changes", EXITS_COLUMNS, if_not_exists=True,
                postgresql_concurrently=True, postgresql_where=EXITED,
            )  # fmt: skip
            op.create_index(
                GROUPS, "leads", GROUPS_COLUMNS, if_not_exists=True, postgresql_concurrently=True
            )
            op.create_index(
                REASONS, "leads", REASONS_COLUMNS, if_not_exists=True,
                postgresql_concurrently=True, postgresql_where=CLOSED,
            )  # fmt: skip
        return
    op.create_index(EXITS, "stage_changes", EXITS_COLUMNS, if_not_exists=True, sqlite_where=EXITED)
    op.create_index(GROUPS, "leads", GROUPS_COLUMNS, if_not_exists=True)
    op.create_index(REASONS, "leads", REASONS_COLUMNS, if_not_exists=True, sqlite_where=CLOSED)


def downgrade() -> None:
    """Drop them."""
    op.drop_index(EXITS, table_name="stage_changes", if_exists=True)
    op.drop_index(GROUPS, table_name="leads", if_exists=True)
    op.drop_index(REASONS, table_name="leads", if_exists=True)
