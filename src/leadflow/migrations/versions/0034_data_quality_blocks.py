"""What the data-quality and fallen-through reports read, kept so they do not pass over every
lead: `name_blocks` (leads counted by account and lower-cased, trimmed last name, kept by
triggers on `leads`), the partial index `ix_leads_bad_email` (only leads whose e-mail is
missing or misshapen) and the covering index `ix_leads_cracks` (a stage's leads: owner,
e-mail, since when).

Triggers, not the writers: a block's count changes whenever any lead of it is created,
deleted, renamed or moved to another account, by any path (the pipeline, /api edits, imports,
merges, erasure, and an account's deletion setting `account_id` NULL through its foreign key),
and a trigger sees every one of them. On PostgreSQL the triggers are created and the counts
filled in (one INSERT ... SELECT grouped by block) in one transaction: CREATE TRIGGER locks
out writers of `leads` until it commits, so no lead written meanwhile is missed or counted
twice. The indexes are built without blocking writers on PostgreSQL (`CONCURRENTLY`, outside
the transaction).

Revision ID: 0034
Revises: 0006
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0034"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out, not imported, so later changes to the models do not change what this did.
BAD_EMAIL = "email IS NULL OR email NOT LIKE '%_@_%._%' OR email LIKE '% %' OR email LIKE '%@%@%'"
CRACKS = ["stage", "owner", "email", "stage_changed_at"]
BACKFILL = """
INSERT INTO name_blocks (account_id, name_key, leads)
SELECT account_id, lower(trim(last_name)), count(*) FROM leads
WHERE account_id IS NOT NULL AND last_name IS NOT NULL
GROUP BY account_id, lower(trim(last_name))
"""
# Add one to the block of NEW, take one from the block of OLD (a block at zero is removed).
_ADD = """
INSERT INTO name_blocks (account_id, name_key, leads)
SELECT NEW.account_id, lower(trim(NEW.last_name)), 1
WHERE NEW.account_id IS NOT NULL AND NEW.last_name IS NOT NULL
ON CONFLICT (account_id, name_key) DO UPDATE SET leads = name_blocks.leads + 1;
"""
_TAKE = """
UPDATE name_blocks SET leads = leads - 1
WHERE account_id = OLD.account_id AND name_key = lower(trim(OLD.last_name));
DELETE FROM name_blocks
WHERE account_id = OLD.account_id AND name_key = lower(trim(OLD.last_name)) AND leads = 0;
"""
_CHANGED = "OLD.account_id IS NOT NEW.account_id OR OLD.last_name IS NOT NEW.last_name"
SQLITE_TRIGGERS = [
    f"CREATE TRIGGER leads_name_block_insert AFTER INSERT ON leads BEGIN {_ADD} END",
    f"CREATE TRIGGER leads_name_block_delete AFTER DELETE ON leads BEGIN {_TAKE} END",
    "CREATE TRIGGER leads_name_block_update AFTER UPDATE OF account_id, last_name ON leads"
    f" WHEN {_CHANGED} BEGIN {_TAKE} {_ADD} END",
]
PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION leads_name_block() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN {_TAKE} END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN {_ADD} END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql
"""
PG_TRIGGERS = [
    "CREATE TRIGGER leads_name_block_write AFTER INSERT OR DELETE ON leads"
    " FOR EACH ROW EXECUTE FUNCTION leads_name_block()",
    "CREATE TRIGGER leads_name_block_update AFTER UPDATE OF account_id, last_name ON leads"
    " FOR EACH ROW WHEN (OLD.account_id IS DISTINCT FROM NEW.account_id"
    " OR OLD.last_name IS DISTINCT FROM NEW.last_name) EXECUTE FUNCTION leads_name_block()",
]


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    """The table, its triggers and counts in one transaction; then the indexes."""
    op.create_table(
        "name_blocks",
        sa.Column("account_id", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("name_key", sa.String(), nullable=False),
        sa.Column("leads", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "name_key", name=op.f("pk_name_blocks")),
    )
    if _postgresql():
        op.execute(PG_FUNCTION)
        for statement in PG_TRIGGERS:
            op.execute(statement)
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)
    op.execute(BACKFILL)
    shared = sa.text("leads > 1")
    bad = sa.text(BAD_EMAIL)
    if _postgresql():
        with op.get_context().autocommit_block():
            op.create_index(
                "ix_name_blocks_shared", "name_blocks", ["account_id", "name_key"],
                postgresql_where=shared, if_not_exists=True, postgresql_concurrently=True,
            )  # fmt: skip
            op.create_index(
                "ix_leads_bad_email", "leads", ["created_at", "email"], postgresql_where=bad,
                if_not_exists=True, postgresql_concurrently=True,
            )  # fmt: skip
            op.create_index(
                "ix_leads_cracks", "leads", CRACKS, if_not_exists=True,
                postgresql_concurrently=True,
            )  # fmt: skip
        return
    op.create_index(
        "ix_name_blocks_shared", "name_blocks", ["account_id", "name_key"], sqlite_where=shared
    )
    op.create_index("ix_leads_bad_email", "leads", ["created_at", "email"], sqlite_where=bad)
    op.create_index("ix_leads_cracks", "leads", CRACKS)


def downgrade() -> None:
    """Drop them."""
    op.drop_index("ix_leads_cracks", table_name="leads", if_exists=True)
    op.drop_index("ix_leads_bad_email", table_name="leads", if_exists=True)
    if _postgresql():
        for name in ("leads_name_block_write", "leads_name_block_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON leads")
        op.execute("DROP FUNCTION IF EXISTS leads_name_block()")
    else:
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS leads_name_block_{name}")
    op.drop_table("name_blocks")
