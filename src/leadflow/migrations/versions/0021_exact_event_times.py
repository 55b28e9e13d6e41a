"""Events' occurred_us to the exact microsecond on SQLite.

0013 filled in occurred_us of stored events with SQLite's strftime('%s', ...), which rounds to
the millisecond: an event at 11:59:59.9995 or later in a second got the next second, and bulk
re-scoring then saw it a second late (in the future, when it was just before `now`). Only
those rows (fraction of 999500 microseconds or more) are recomputed, from the whole seconds
of the stored text plus its fraction. PostgreSQL's EXTRACT is exact: nothing to do there.

Revision ID: 0021
Revises: 0006
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EXACT = (
    "CAST(strftime('%s', substr(occurred_at, 1, 19)) AS INTEGER) * 1000000"
    " + CAST(substr(occurred_at || '000000', 21, 6) AS INTEGER)"
)


def upgrade() -> None:
    """Recompute the times 0013 may have rounded up (SQLite only). Before 0013 there is no
    occurred_us yet, and 0013 now fills it in exactly: nothing to do either."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    if "occurred_us" not in {c["name"] for c in sa.inspect(bind).get_columns("events")}:
        return
    op.execute(
        f"UPDATE events SET occurred_us = {EXACT}"
        " WHERE occurred_us IS NOT NULL AND substr(occurred_at || '000000', 21, 6) >= '999500'"
    )


def downgrade() -> None:
    """Nothing to undo: the corrected times are the right ones."""
