"""Closed loop: shared goals, the shared channels for wins and the digest, and what the funnel
reports read instead of the whole history: each lead's furthest funnel rank, and on each stage
change when the lead had entered the stage it left.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)
FLOAT: sa.Double[float] = sa.Double()


TIMELINE = ("lead_id", "occurred_at", "type", "source", "name", "path", "campaign")
RANKS = ("subscriber", "lead", "mql", "sql", "opportunity", "customer")


def _rank(column: str) -> str:
    whens = " ".join(f"WHEN '{stage}' THEN {k}" for k, stage in enumerate(RANKS))
    return f"CASE {column} {whens} ELSE -1 END"


def upgrade() -> None:
    """Create goals and shared_channels; add and backfill reached_rank and
    previous_entered_at."""
    op.add_column(
        "leads", sa.Column("reached_rank", sa.Integer(), nullable=False, server_default="-1")
    )
    op.add_column("stage_changes", sa.Column("previous_entered_at", TIMESTAMP, nullable=True))
    op.add_column("events", sa.Column("campaign", sa.String(), nullable=True))
    op.add_column("events", sa.Column("path", sa.String(), nullable=True))
    _backfill_event_lookups()
    op.create_index("ix_events_name", "events", ["name"])
    op.drop_index("ix_events_lead_id_occurred_at", table_name="events")
    op.create_index("ix_events_lead_timeline", "events", list(TIMELINE))
    op.drop_index("ix_leads_account_id", table_name="leads")
    op.create_index("ix_leads_account_last_name", "leads", ["account_id", "last_name"])
    op.execute(
        "UPDATE leads SET reached_rank = COALESCE((SELECT MAX(r) FROM ("
        f"SELECT {_rank('sc.to_stage')} AS r FROM stage_changes sc WHERE sc.lead_id = leads.id"
        f" UNION ALL SELECT {_rank('sc.from_stage')} FROM stage_changes sc"
        " WHERE sc.lead_id = leads.id) AS ranks), -1)"
    )
    op.execute(
        "UPDATE stage_changes SET previous_entered_at = COALESCE("
        "(SELECT MAX(p.at) FROM stage_changes p WHERE p.lead_id = stage_changes.lead_id"
        " AND (p.at < stage_changes.at OR (p.at = stage_changes.at AND p.id < stage_changes.id))),"
        " (SELECT l.created_at FROM leads l WHERE l.id = stage_changes.lead_id))"
        " WHERE from_stage IS NOT NULL"
    )
    op.create_table(
        "goals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("period", sa.String(), nullable=False),
        sa.Column("target", FLOAT, nullable=False),
        sa.Column("from_stage", sa.String(), nullable=True),
        sa.Column("to_stage", sa.String(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_goals")),
    )
    op.create_table(
        "shared_channels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(), nullable=False),
        sa.Column("url", sa.String(), nullable=False),
        sa.Column("schedule", sa.String(), nullable=True),
        sa.Column("timezone", sa.String(), nullable=False),
        sa.Column("next_run_at", TIMESTAMP, nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shared_channels")),
    )


def _backfill_event_lookups() -> None:
    """campaign and path for events stored before: the same rules as events.with_lookups."""
    if op.get_bind().dialect.name == "postgresql":

        def pg_text(doc: str, at: str) -> str:  # strings only, as the Python side keeps them
            return (
                f"CASE WHEN json_typeof({doc} #> '{at}') = 'string'"
                f" THEN NULLIF({doc} #>> '{at}', '') END"
            )

        campaign = (
            f"COALESCE({pg_text('context', '{campaign,name}')},"
            f" {pg_text('properties', '{utm_campaign}')}, {pg_text('properties', '{campaign}')})"
        )
        path = pg_text("properties", "{path}")
    else:

        def text(doc: str, at: str) -> str:
            value = f"json_extract({doc}, '{at}')"
            return f"CASE WHEN json_type({doc}, '{at}') = 'text' THEN NULLIF({value}, '') END"

        campaign = (
            f"COALESCE({text('context', '$.campaign.name')},"
            f" {text('properties', '$.utm_campaign')}, {text('properties', '$.campaign')})"
        )
        path = text("properties", "$.path")
    op.execute(
        f"UPDATE events SET campaign = substr({campaign}, 1, 200),"
        f" path = CASE WHEN type = 'page' THEN substr({path}, 1, 200) END"
    )


def downgrade() -> None:
    """Drop them. Columns go with ALTER TABLE DROP COLUMN (SQLite 3.35+), never a batch
    table copy: re-creating `leads` on SQLite would cascade-delete its events."""
    op.drop_index("ix_events_name", table_name="events")
    op.drop_index("ix_events_lead_timeline", table_name="events")
    op.create_index("ix_events_lead_id_occurred_at", "events", ["lead_id", "occurred_at"])
    op.drop_index("ix_leads_account_last_name", table_name="leads")
    op.create_index("ix_leads_account_id", "leads", ["account_id"])
    for table, column in (
        ("events", "path"),
        ("events", "campaign"),
        ("stage_changes", "previous_entered_at"),
        ("leads", "reached_rank"),
    ):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    op.drop_table("shared_channels")
    op.drop_table("goals")
