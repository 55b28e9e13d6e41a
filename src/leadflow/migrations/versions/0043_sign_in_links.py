"""`sign_in_links`: one-time sign-in links in a table of their own. They were rows of
`web_sessions` (stored under the digest of a prefix and their token), so the prefixed token
worked as a session cookie, skipping the link's confirmation and leaving it unused. Links
still unused move over with their digests (they open as before); a link is told from a
session by its lifetime, 24 hours against a session's 12.

Revision ID: 0043
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import sqlalchemy as sa
from alembic import op

revision: str = "0043"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)
# Written out, not imported: the lifetimes the rows being moved were made with.
SESSION_LIFETIME = timedelta(hours=12)
SESSIONS = sa.table(
    "web_sessions",
    sa.column("token_hash", sa.String()),
    sa.column("user_id", sa.Integer()),
    sa.column("created_at", TIMESTAMP),
    sa.column("expires_at", TIMESTAMP),
)
LINKS = sa.table(
    "sign_in_links",
    sa.column("token_hash", sa.String()),
    sa.column("user_id", sa.Integer()),
    sa.column("created_at", TIMESTAMP),
    sa.column("expires_at", TIMESTAMP),
)


def upgrade() -> None:
    """Create sign_in_links and move the links out of web_sessions."""
    op.create_table(
        "sign_in_links",
        sa.Column("token_hash", sa.String(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_sign_in_links_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_sign_in_links")),
    )
    op.create_index(op.f("ix_sign_in_links_user_id"), "sign_in_links", ["user_id"])
    connection = op.get_bind()
    rows = connection.execute(sa.select(SESSIONS)).mappings().all()  # a few per person
    links = [dict(r) for r in rows if r["expires_at"] - r["created_at"] > SESSION_LIFETIME]
    if links:
        connection.execute(LINKS.insert(), links)
        hashes = [r["token_hash"] for r in links]
        connection.execute(SESSIONS.delete().where(SESSIONS.c.token_hash.in_(hashes)))


def downgrade() -> None:
    """Drop sign_in_links (the links in it no longer open)."""
    op.drop_index(op.f("ix_sign_in_links_user_id"), table_name="sign_in_links")
    op.drop_table("sign_in_links")
