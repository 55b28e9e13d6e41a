"""Join the stays in a stage that a rep's accept split, in histories written before the accept
kept the stage clock.

An accept keeps a lead in sql and is stored as an sql -> sql row. Before, it was written as a
move out of the stage (its `previous_entered_at` set) and moved the lead's `stage_changed_at`,
so velocity counted one stay in sql as two shorter ones: the accept's, and the next move out
of sql's, which ran from the accept. Now (`services/lifecycle.record`) an action that keeps
the stage closes no stay and leaves the clock alone; this puts the rows written before the
same way, set-based, on both engines:

- the move out of a stage right after such a row (by time, then id) runs from when the lead
  entered that stage: the time of the lead's latest earlier row that changed the stage, else
  the lead's creation, as `lifecycle.record` reads it from the clock;
- a lead whose latest row is such a row is in its stage since that time too;
- such rows close no stay (`previous_entered_at` NULL: velocity's indexes skip them).

Only leads with such a row are read (one pass over the moves finds them); the rest keep their
rows as they are.

Revision ID: 0051
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0051"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out, not imported, so later changes to the code do not change what this did.
KEPT = "from_stage = to_stage"  # an action that kept the stage (an accept: sql -> sql)
LEADS_WITH_ONE = f"SELECT lead_id FROM stage_changes WHERE {KEPT}"


def _latest_before(alias: str, column: str, condition: str) -> str:
    """The `column` of the lead's latest row before the row being updated (`stage_changes`)
    meeting `condition`, by time then id."""
    return (
        f"(SELECT {column} FROM stage_changes {alias}"
        f" WHERE {alias}.lead_id = stage_changes.lead_id AND {condition}"
        f" AND ({alias}.at < stage_changes.at"
        f" OR ({alias}.at = stage_changes.at AND {alias}.id < stage_changes.id))"
        f" ORDER BY {alias}.at DESC, {alias}.id DESC LIMIT 1)"
    )


# When the lead entered the stage an update's row leaves: the latest earlier move, else its
# creation.
ENTERED = (
    "COALESCE("
    + _latest_before("e", "e.at", "e.from_stage <> e.to_stage")
    + ", (SELECT l.created_at FROM leads l WHERE l.id = stage_changes.lead_id))"
)
AFTER_ONE = (
    f"UPDATE stage_changes SET previous_entered_at = {ENTERED}"
    " WHERE from_stage <> to_stage AND previous_entered_at IS NOT NULL"
    f" AND lead_id IN ({LEADS_WITH_ONE})"
    " AND "
    + _latest_before("p", "CASE WHEN p.from_stage = p.to_stage THEN 1 ELSE 0 END", "1 = 1")
    + " = 1"
)
CLOCKS = (
    "UPDATE leads SET stage_changed_at = COALESCE("
    "(SELECT m.at FROM stage_changes m WHERE m.lead_id = leads.id AND m.from_stage <> m.to_stage"
    " ORDER BY m.at DESC, m.id DESC LIMIT 1), created_at)"
    f" WHERE id IN ({LEADS_WITH_ONE}) AND ("
    "SELECT CASE WHEN s.from_stage = s.to_stage THEN 1 ELSE 0 END FROM stage_changes s"
    " WHERE s.lead_id = leads.id ORDER BY s.at DESC, s.id DESC LIMIT 1) = 1"
)
NO_STAY = f"UPDATE stage_changes SET previous_entered_at = NULL WHERE {KEPT}"


def upgrade() -> None:
    """Repair the moves after an accept and the clocks first: both find the accepts' rows by
    their stages, not by the times the last step clears."""
    op.execute(AFTER_ONE)
    op.execute(CLOCKS)
    op.execute(NO_STAY)


def downgrade() -> None:
    """Nothing to undo: the joined stays are the right ones, and the code before reads them."""
