"""People's data and the audit log: tombstones, erased counts, do-not-track, audit_log.

Revision ID: 0008
Revises: 0006
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)
FLOAT: sa.Double[float] = sa.Double()

# The audit log is append-only: the database itself refuses to change or remove an entry.
PG_REFUSE = """
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql
"""
PG_TRIGGER = (
    "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
)
SQLITE_TRIGGERS = [
    f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
    f"BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: {verb} refused'); END"
    for verb in ("UPDATE", "DELETE")
]


def upgrade() -> None:
    """Create audit_log (with its triggers), tombstones, erased_counts; leads.do_not_track."""
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("target", sa.String(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"])
    op.create_index("ix_audit_log_actor_at", "audit_log", ["actor", "at"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_REFUSE)
        op.execute(PG_TRIGGER)
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)
    op.create_table(
        "tombstones",
        sa.Column("key_hash", sa.String(), nullable=False),
        sa.Column("erased_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("key_hash", name=op.f("pk_tombstones")),
    )
    op.create_table(
        "erased_counts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_month", TIMESTAMP, nullable=False),
        sa.Column("source", sa.String(), nullable=True),
        sa.Column("medium", sa.String(), nullable=True),
        sa.Column("campaign", sa.String(), nullable=True),
        sa.Column("persona", sa.String(), nullable=True),
        sa.Column("tier", sa.String(), nullable=True),
        sa.Column("grade", sa.String(), nullable=True),
        sa.Column("score_band", sa.Integer(), nullable=True),
        sa.Column("reached_rank", sa.Integer(), nullable=False),
        sa.Column("leads", sa.Integer(), nullable=False),
        sa.Column("revenue", FLOAT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erased_counts")),
    )
    op.create_index(op.f("ix_erased_counts_created_month"), "erased_counts", ["created_month"])
    op.add_column(
        "leads",
        sa.Column("do_not_track", sa.Boolean(), server_default=sa.false(), nullable=False),
    )


def downgrade() -> None:
    """Drop them (the column in place: a batch copy of leads would cascade-delete events)."""
    op.execute("ALTER TABLE leads DROP COLUMN do_not_track")
    op.drop_table("erased_counts")
    op.drop_table("tombstones")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    op.drop_table("audit_log")
