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

# An event's kind depends on its type, name and page path only, and stored events share few of
# those: each distinct one is computed once in Python, and every event is then updated in one
# statement joined to them (one row version per event on PostgreSQL, not one statement each).
KINDS = "leadflow_0013_kinds"


def upgrade() -> None:
    """Add events.occurred_us and events.kind, fill them in for stored events, index them."""
    op.add_column("events", sa.Column("occurred_us", sa.BigInteger(), nullable=True))
    op.add_column("events", sa.Column("kind", sa.BigInteger(), nullable=True))
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        micros = "CAST(EXTRACT(EPOCH FROM occurred_at) * 1000000 AS BIGINT)"
        path = "CAST(properties -> 'path' AS TEXT)"
    else:  # stored as 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC)
        micros = (
            # whole seconds only: SQLite's date functions round to the millisecond (see 0021)
            "CAST(strftime('%s', substr(occurred_at, 1, 19)) AS INTEGER) * 1000000"
            " + CAST(substr(occurred_at || '000000', 21, 6) AS INTEGER)"
        )
        path = "properties -> '$.path'"
    name_key, path_key = _key("events.name"), _key(path)
    _store_kinds(bind, path)
    op.execute(
        f"UPDATE events SET occurred_us = {micros}, kind = k.kind FROM {KINDS} k"
        f" WHERE k.type = events.type AND k.name_key = {name_key} AND k.path_key = {path_key}"
    )
    op.execute(f"DROP TABLE {KINDS}")
    op.create_index("ix_events_scoring", "events", ["lead_id", "occurred_us", "kind"])


def _key(column: str) -> str:
    """A value that tells NULL from every text and can be joined on by equality (hashed)."""
    # Parenthesised: SQLite's -> binds no tighter than ||.
    return f"(CASE WHEN ({column}) IS NULL THEN 'n' ELSE 's' || ({column}) END)"


def _store_kinds(bind: sa.Connection, path: str) -> None:
    """A temporary table of each distinct (type, name, path) of stored events with its kind,
    computed as every insert computes it (`kind_of`)."""
    bind.execute(
        sa.text(
            f"CREATE TEMPORARY TABLE {KINDS} (type TEXT NOT NULL, name_key TEXT NOT NULL,"
            " path_key TEXT NOT NULL, kind BIGINT NOT NULL)"
        )
    )
    distinct = sa.text(f"SELECT DISTINCT type, name, {path} FROM events")
    rows = [
        {
            "type": t,
            "name_key": "n" if n is None else "s" + n,
            "path_key": "n" if p is None else "s" + p,
            "kind": kind_of(t, n, {} if p is None else {"path": json.loads(p)}),
        }
        for t, n, p in bind.execute(distinct)
    ]
    if rows:
        insert = f"INSERT INTO {KINDS} VALUES (:type, :name_key, :path_key, :kind)"
        bind.execute(sa.text(insert), rows)
    bind.execute(sa.text(f"CREATE INDEX ix_{KINDS} ON {KINDS} (type, name_key, path_key)"))


def downgrade() -> None:
    """Drop them (in place: a batch copy of events is never needed)."""
    op.drop_index("ix_events_scoring", table_name="events")
    op.execute("ALTER TABLE events DROP COLUMN kind")
    op.execute("ALTER TABLE events DROP COLUMN occurred_us")
