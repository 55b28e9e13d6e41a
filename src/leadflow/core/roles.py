"""Who may do what: API key roles and the permissions each one grants."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """The role an API key is created with."""

    INGEST = "ingest"
    MARKETING = "marketing"
    SALES = "sales"
    ADMIN = "admin"


class Permission(StrEnum):
    """What an endpoint needs."""

    INGEST = "ingest"  # send events to /v1 (the write key of a website or tool)
    READ = "read"  # read leads, accounts, events, the playbook, reports
    WRITE_LEADS = "write_leads"  # create and update leads, accounts and native events
    PLAYBOOK = "playbook"  # validate and apply the playbook
    SALES = "sales"  # stage actions: accept, touch, recycle, disqualify, convert, close
    ADMIN = "admin"  # keys, reps, webhooks


GRANTS: dict[Role, frozenset[Permission]] = {
    # A write key ships inside web pages: it can only send events.
    Role.INGEST: frozenset({Permission.INGEST}),
    Role.MARKETING: frozenset(
        {Permission.INGEST, Permission.READ, Permission.WRITE_LEADS, Permission.PLAYBOOK}
    ),
    Role.SALES: frozenset({Permission.READ, Permission.WRITE_LEADS, Permission.SALES}),
    Role.ADMIN: frozenset(Permission),
}


def allows(role: Role, permission: Permission) -> bool:
    """True when keys of this role may do this."""
    return permission in GRANTS[role]
