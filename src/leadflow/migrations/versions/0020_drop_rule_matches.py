"""Drop rule_matches: nothing reads it (live scoring keeps `rule_states`).

Revision ID: 0020
Revises: 0006
Create Date: 2026-11-28

On PostgreSQL the drop also takes a brief lock on `leads` and `events` (to remove the foreign
keys' triggers); a lock timeout makes it give up rather than queue every writer behind a long
transaction (run it again later). The downgrade brings back an empty table.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Drop rule_matches (and its constraints with it)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_table("rule_matches")


def downgrade() -> None:
    """Create it again, empty, as migration 0001 made it."""
    op.create_table(
        "rule_matches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.String(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("points", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(
            ["lead_id"],
            ["leads.id"],
            name=op.f("fk_rule_matches_lead_id_leads"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_rule_matches_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rule_matches")),
        sa.UniqueConstraint(
            "lead_id", "event_id", "rule_id", name=op.f("uq_rule_matches_lead_id_event_id_rule_id")
        ),
    )
