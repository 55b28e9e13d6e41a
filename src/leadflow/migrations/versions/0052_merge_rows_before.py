"""Merge rows written before a merge had its own actor: no entry into a stage in any report.

A merge writes a row on the kept lead's history when the duplicate was further down the
funnel ("merged with X, which was customer"). The duplicate's own move into that stage comes
over with its history, so since the twenty-fourth session the merge's row is bookkeeping:
written by actor `merge` (`core.lifecycle.MERGE_ACTOR`) with no `previous_entered_at`, and
left out of every report's entries (the digest, speed's marketing MQLs, the SLA month, the
plan's actuals) and stays (velocity). Rows written before carry the merging person as actor
and close a stay, so those reports still counted each such merge as a second entry. They are
told by their reason, which only a merge writes in that form, and given the merge's actor and
no stay, set-based, on both engines.

Revision ID: 0052
Revises: 0051
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0052"
down_revision: str | None = "0051"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out, not imported, so later changes to the code do not change what this did.
MERGE_ACTOR = "merge"
MERGE_REASON = "merged with %, which was %"  # services/merge.py's row, as it has always read


def upgrade() -> None:
    """The merges' rows: the merge's actor, no stay closed."""
    op.execute(
        f"UPDATE stage_changes SET actor = '{MERGE_ACTOR}', previous_entered_at = NULL"
        f" WHERE reason LIKE '{MERGE_REASON}' AND actor <> '{MERGE_ACTOR}'"
    )


def downgrade() -> None:
    """Nothing to undo: the code before reads these rows as it read any person's."""
