"""Initial schema: accounts, leads, identities, events, scoring state, history, playbooks.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)


def _scores() -> list[sa.Column[float]]:
    return [sa.Column(name, sa.Double(), nullable=False) for name in ("fit", "engagement", "total")]


def _stamps() -> list[sa.Column[object]]:
    return [sa.Column(name, TIMESTAMP, nullable=False) for name in ("created_at", "updated_at")]


def upgrade() -> None:
    """Create every table."""
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("domain", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("industry", sa.String(), nullable=True),
        sa.Column("employees", sa.Integer(), nullable=True),
        sa.Column("annual_revenue", sa.Double(), nullable=True),
        sa.Column("country", sa.String(), nullable=True),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("tier", sa.String(), nullable=True),
        *_scores(),
        sa.Column("engaged_leads", sa.Integer(), nullable=False),
        *_stamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("domain", name=op.f("uq_accounts_domain")),
    )
    op.create_table(
        "playbook_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(), nullable=False),
        sa.Column("author", sa.String(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_playbook_versions")),
        sa.UniqueConstraint("version", name=op.f("uq_playbook_versions_version")),
    )
    with op.batch_alter_table("playbook_versions") as batch:
        batch.create_index(batch.f("ix_playbook_versions_content_hash"), ["content_hash"])
        batch.create_index(
            "uq_playbook_versions_one_active",
            ["active"],
            unique=True,
            sqlite_where=sa.text("active"),
            postgresql_where=sa.text("active"),
        )
    op.create_table(
        "leads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(), nullable=True),
        *[
            sa.Column(name, sa.String(), nullable=True)
            for name in (
                "first_name",
                "last_name",
                "title",
                "phone",
                "country",
                "source",
                "medium",
                "campaign",
            )
        ],
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("stage", sa.String(), nullable=False),
        sa.Column("stage_changed_at", TIMESTAMP, nullable=True),
        *_scores(),
        sa.Column("grade", sa.String(), nullable=True),
        sa.Column("persona", sa.String(), nullable=True),
        sa.Column("contributions", sa.JSON(), nullable=False),
        sa.Column("scored_at", TIMESTAMP, nullable=True),
        sa.Column("recycle_until", TIMESTAMP, nullable=True),
        sa.Column("owner", sa.String(), nullable=True),
        sa.Column("outcome", sa.String(), nullable=True),
        sa.Column("outcome_reason", sa.String(), nullable=True),
        sa.Column("outcome_amount", sa.Double(), nullable=True),
        sa.Column("closed_at", TIMESTAMP, nullable=True),
        *_stamps(),
        sa.CheckConstraint("outcome IN ('won', 'lost')", name=op.f("ck_leads_outcome")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_leads_account_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leads")),
        sa.UniqueConstraint("email", name=op.f("uq_leads_email")),
    )
    with op.batch_alter_table("leads") as batch:
        batch.create_index(batch.f("ix_leads_account_id"), ["account_id"])
        batch.create_index(batch.f("ix_leads_persona"), ["persona"])
        batch.create_index(batch.f("ix_leads_total"), ["total"])
        batch.create_index("ix_leads_stage_total", ["stage", "total"])
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=True),
        sa.Column("anonymous_id", sa.String(), nullable=True),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("message_id", sa.String(), nullable=False),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=True),
        sa.Column("properties", sa.JSON(), nullable=False),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("occurred_at", TIMESTAMP, nullable=False),
        sa.Column("received_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name=op.f("fk_events_lead_id_leads"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.UniqueConstraint("source", "message_id", name=op.f("uq_events_source_message_id")),
    )
    with op.batch_alter_table("events") as batch:
        batch.create_index(batch.f("ix_events_anonymous_id"), ["anonymous_id"])
        batch.create_index(batch.f("ix_events_occurred_at"), ["occurred_at"])
        batch.create_index("ix_events_lead_id_occurred_at", ["lead_id", "occurred_at"])
    _create_lead_children()


def _lead_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["lead_id"], ["leads.id"], name=op.f(f"fk_{table}_lead_id_leads"), ondelete="CASCADE"
    )


def _create_lead_children() -> None:
    op.create_table(
        "identities",
        sa.Column("anonymous_id", sa.String(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        _lead_fk("identities"),
        sa.PrimaryKeyConstraint("anonymous_id", name=op.f("pk_identities")),
    )
    op.create_table(
        "rule_matches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.String(), nullable=False),
        sa.Column("occurred_at", TIMESTAMP, nullable=False),
        sa.Column("points", sa.Double(), nullable=False),
        _lead_fk("rule_matches"),
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
    op.create_table(
        "stage_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("from_stage", sa.String(), nullable=True),
        sa.Column("to_stage", sa.String(), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        _lead_fk("stage_changes"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stage_changes")),
    )
    op.create_table(
        "score_ledger",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("cause", sa.String(), nullable=False),
        *_scores(),
        sa.Column("grade", sa.String(), nullable=True),
        sa.Column("delta_total", sa.Double(), nullable=False),
        _lead_fk("score_ledger"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_score_ledger")),
    )
    for table in ("identities", "stage_changes", "score_ledger"):
        with op.batch_alter_table(table) as batch:
            batch.create_index(batch.f(f"ix_{table}_lead_id"), ["lead_id"])


def downgrade() -> None:
    """Drop every table, children first."""
    for table in (
        "score_ledger",
        "stage_changes",
        "rule_matches",
        "identities",
        "events",
        "leads",
        "playbook_versions",
        "accounts",
    ):
        op.drop_table(table)
