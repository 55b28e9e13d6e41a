"""Events carry what a bulk re-score reads as integers: occurred_us and kind.

Revision ID: 0013
Revises: 0006
Create Date: 2026-11-28
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from leadflow.core.event_kinds import kind_of

revision: str = "0013"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 50_000


def upgrade() -> None:
    """Add events.occurred_us and events.kind, fill them in for stored events, index them."""
    op.add_column("events", sa.Column("occurred_us", sa.BigInteger(), nullable=True))
    op.add_column("events", sa.Column("kind", sa.BigInteger(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        micros = "CAST(EXTRACT(EPOCH FROM occurred_at) * 1000000 AS BIGINT)"
    else:  # stored as 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC)
        micros = (
            # whole seconds only: SQLite's date functions round to the millisecond (see 0021)
            "CAST(strftime('%s', substr(occurred_at, 1, 19)) AS INTEGER) * 1000000"
            " + CAST(substr(occurred_at || '000000', 21, 6) AS INTEGER)"
        )
    op.execute(f"UPDATE events SET occurred_us = {micros}")
    _backfill_kinds()
    op.create_index("ix_events_scoring", "events", ["lead_id", "occurred_us", "kind"])


def _backfill_kinds() -> None:
    """Each stored event's kind, computed as every insert computes it (`kind_of`)."""
    bind = op.get_bind()
    path = (
        "CAST(properties -> 'path' AS TEXT)"
        if bind.dialect.name == "postgresql"
        else "properties -> '$.path'"
    )
    update = sa.text("UPDATE events SET kind = :kind WHERE id = :id")
    last = 0
    while True:
        rows = bind.execute(
            sa.text(
                f"SELECT id, type, name, {path} FROM events WHERE id > :last ORDER BY id LIMIT :n"
            ),
            {"last": last, "n": BATCH},
        ).all()
        if not rows:
            return
        kinds = [
            {"id": i, "kind": kind_of(t, n, {} if p is None else {"path": json.loads(p)})}
            for i, t, n, p in rows
        ]
        bind.execute(update, kinds)
        last = rows[-1][0]


def downgrade() -> None:
    """Drop them (in place: a batch copy of events is never needed)."""
    op.drop_index("ix_events_scoring", table_name="events")
    op.execute("ALTER TABLE events DROP COLUMN kind")
    op.execute("ALTER TABLE events DROP COLUMN occurred_us")
