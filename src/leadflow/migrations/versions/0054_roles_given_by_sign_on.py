"""Which users' roles single sign-on gave: the provider's to take away.

A role mapped from the identity provider's group claim is the provider's: when the person is
in no mapped group any more, signing in through the provider is refused instead of keeping
the role (an admin removed at the provider stayed an admin). A role given in leadflow (a user
made with a password, never given a role by sign-on) stays as before. Until now only sign-on
gave or changed roles after a user was made, and each time it wrote the audit log (actor
`sso`, `user.created` or `user.role_changed`): those users are marked.

Revision ID: 0054
Revises: 0008
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0054"
down_revision: str | None = "0008"  # makes audit_log, which this reads
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """The column, false for all; true for the users sign-on gave a role."""
    # A plain ADD COLUMN: SQLite's batch mode would copy the table and drop the old one,
    # and the drop cascades to every signed-in session.
    op.add_column(
        "users",
        sa.Column("role_from_sso", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.execute(
        "UPDATE users SET role_from_sso = true WHERE email IN (SELECT target FROM audit_log"
        " WHERE actor = 'sso' AND action IN ('user.created', 'user.role_changed'))"
    )


def downgrade() -> None:
    op.drop_column("users", "role_from_sso")
