"""What closed leads did before they closed, for two reports (`repositories/closed_rollups.py`
keeps both): `closed_content`, one row per distinct (lead, kind, item) a closed lead consumed
before closing, with its outcome and creation, so the content report reads one covering
index instead of every closed lead's events; and `won_touches`, one row per won lead with
its campaign touches from events (times and campaigns as JSON arrays), for attribution.

New tables (nothing live reads them until this revision's code runs). `closed_content` is
filled in by one INSERT ... SELECT DISTINCT over the closed leads' events, then indexed
(CONCURRENTLY on PostgreSQL, outside the transaction), so the index is built once;
`won_touches` by one read of the won leads' touches, in lead order, grouped in Python and
written a few thousand rows per statement. And `ix_leads_won_paths`, covering attribution's
read of the won leads (closed leads only), built the same way.

Revision ID: 0032
Revises: 0006
Create Date: 2026-11-29
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0032"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out, not imported, so later changes to the models do not change what this did.
TABLE = "closed_content"
INDEX = "ix_closed_content_report"
INDEX_COLUMNS = ["kind", "item", "outcome", "created_at"]
# Covering for attribution's read of the won leads (closed leads only: few entries to keep).
WON_INDEX = "ix_leads_won_paths"
WON_COLUMNS = ["outcome", "id", "created_at", "closed_at", "outcome_amount", "campaign"]
CLOSED = sa.text("outcome IS NOT NULL")
BACKFILL = """
INSERT INTO closed_content (lead_id, kind, item, outcome, created_at)
SELECT DISTINCT events.lead_id,
       CASE WHEN events.type = 'page' THEN 'page' ELSE 'event' END,
       CASE WHEN events.type = 'page' THEN coalesce(events.path, '?')
            ELSE coalesce(events.name, events.type) END,
       leads.outcome, leads.created_at
FROM events JOIN leads ON leads.id = events.lead_id
WHERE leads.outcome IN ('won', 'lost') AND events.occurred_at <= leads.closed_at
  AND events.source NOT IN ('sales', 'note') AND events.type IN ('page', 'track')
"""


TOUCHES = """
SELECT events.lead_id, {micros}, events.campaign
FROM events JOIN leads ON leads.id = events.lead_id
WHERE leads.outcome = 'won' AND events.campaign IS NOT NULL
  AND events.occurred_at <= leads.closed_at
ORDER BY events.lead_id
"""
# Whole seconds from the text's first 19 characters (SQLite's date functions round
# milliseconds), the fraction from the text: as `repositories._bulk.epoch_micros`.
SQLITE_MICROS = (
    "CAST(strftime('%s', substr(events.occurred_at, 1, 19)) AS INTEGER) * 1000000"
    " + CAST(substr(events.occurred_at || '000000', 21, 6) AS INTEGER)"
)
POSTGRESQL_MICROS = "CAST(extract(epoch FROM events.occurred_at) * 1000000 AS BIGINT)"
BATCH = 5000


def _won_touches() -> None:
    op.create_table(
        "won_touches",
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("times", sa.Text(), nullable=False),
        sa.Column("campaigns", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name="fk_won_touches_lead_id_leads", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("lead_id", name="pk_won_touches"),
    )
    bind = op.get_bind()
    postgresql = bind.dialect.name == "postgresql"
    micros = POSTGRESQL_MICROS if postgresql else SQLITE_MICROS
    table = sa.table("won_touches", sa.column("lead_id"), sa.column("times"),
                     sa.column("campaigns"))  # fmt: skip
    rows: list[dict[str, object]] = []
    path: list[tuple[int, str]] = []
    current = None
    for lead_id, at, campaign in bind.execute(sa.text(TOUCHES.format(micros=micros))):
        if lead_id != current and path:
            rows.append(_row(current, path))
            path = []
        current = lead_id
        path.append((int(at), str(campaign)))
        if len(rows) >= BATCH:
            bind.execute(table.insert(), rows)
            rows = []
    if path:
        rows.append(_row(current, path))
    if rows:
        bind.execute(table.insert(), rows)


def _row(lead_id: object, path: list[tuple[int, str]]) -> dict[str, object]:
    path.sort()
    times = json.dumps([t for t, _ in path], separators=(",", ":"))
    campaigns = json.dumps([c for _, c in path], separators=(",", ":"))
    return {"lead_id": lead_id, "times": times, "campaigns": campaigns}


def upgrade() -> None:
    """Create the tables, fill them in from the events, then index them."""
    _won_touches()
    op.create_table(
        TABLE,
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("item", sa.String(), nullable=False),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name="fk_closed_content_lead_id_leads", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("lead_id", "kind", "item", name="pk_closed_content"),
    )
    op.execute(BACKFILL)
    if op.get_bind().dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            op.create_index(
                INDEX, TABLE, INDEX_COLUMNS, if_not_exists=True, postgresql_concurrently=True
            )
            op.create_index(
                WON_INDEX, "leads", WON_COLUMNS, if_not_exists=True,
                postgresql_concurrently=True, postgresql_where=CLOSED,
            )  # fmt: skip
        return
    op.create_index(INDEX, TABLE, INDEX_COLUMNS, if_not_exists=True)
    op.create_index(WON_INDEX, "leads", WON_COLUMNS, if_not_exists=True, sqlite_where=CLOSED)


def downgrade() -> None:
    """Drop the tables (and the indexes)."""
    op.drop_index(WON_INDEX, table_name="leads", if_exists=True)
    op.drop_table("won_touches")
    op.drop_index(INDEX, table_name=TABLE, if_exists=True)
    op.drop_table(TABLE)
