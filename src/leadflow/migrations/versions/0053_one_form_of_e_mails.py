"""Stored e-mails in their one form, so a lead stored under another spelling is found again.

Until the twenty-fifth session only case and blanks were folded: an address written with a
punycode domain (`ana@xn--mller-kva.de`), a decomposed accent, fullwidth letters or a final
dot on the domain was stored so, and one person could become two leads. Every path now keeps
and looks up an address in one form (`core.addresses.email_identity`); this rewrites the
stored ones. A lead whose one form another lead already holds is left as it is: the two are
one person's records, for `leadflow leads merge`, not for a migration to choose between.

Revision ID: 0053
Revises: 0052
Create Date: 2026-12-01
"""

from __future__ import annotations

import contextlib
import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0053"
down_revision: str | None = "0052"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def one_form(value: str) -> str:
    """`email_identity` as it was written when this ran (written out, not imported, so later
    changes to the code do not change what this did)."""
    text = value.strip()
    local, at, domain = text.rpartition("@")
    if not at:
        return text.lower()
    local = local.lower()
    if not local.isascii():
        narrowed = "".join(
            unicodedata.normalize("NFKC", c) if unicodedata.east_asian_width(c) in "FH" else c
            for c in local
        )
        local = unicodedata.normalize("NFC", narrowed.lower())
    host = domain.lower()
    if host.endswith(".") and not host.endswith(".."):
        host = host[:-1]
    if not host.isascii() or "xn--" in host:
        with contextlib.suppress(UnicodeError):  # not an IDN: left as it is
            host = host.encode("idna").decode("ascii").encode("ascii").decode("idna")
    return f"{local}@{host}"


def upgrade() -> None:
    """Each stored e-mail not in its one form, rewritten unless another lead holds that form."""
    connection = op.get_bind()
    stored = connection.execute(sa.text("SELECT id, email FROM leads WHERE email IS NOT NULL"))
    held: dict[str, int] = {}
    moved: list[tuple[int, str]] = []
    for lead_id, email in stored:
        held[email] = lead_id
        if (kept := one_form(email)) != email:
            moved.append((lead_id, kept))
    rows: list[dict[str, object]] = []
    for lead_id, kept in moved:
        if kept not in held:  # nobody holds it yet (another spelling moved here first does)
            held[kept] = lead_id
            rows.append({"id": lead_id, "email": kept})
    if rows:
        connection.execute(sa.text("UPDATE leads SET email = :email WHERE id = :id"), rows)


def downgrade() -> None:
    """Nothing to undo: the code before reads addresses in their one form as any other."""
