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
    WRITE_LEADS = "write_leads"  # create and update leads (fields, notes, merges)
    WRITE_ACCOUNTS = "write_accounts"  # create and update accounts (marketing's, not sales')
    WRITE_EVENTS = "write_events"  # store native events through /api/events
    PLAYBOOK = "playbook"  # validate and apply the playbook
    SALES = "sales"  # stage actions: accept, touch, recycle, disqualify, convert, close
    TEAM = "team"  # see reps, routing and the alert log (managers)
    ADMIN = "admin"  # keys, reps, webhooks


# The README's table ("API keys and roles"); tests/core/test_roles.py holds the two together.
GRANTS: dict[Role, frozenset[Permission]] = {
    # A write key ships inside web pages: it can only send events.
    Role.INGEST: frozenset({Permission.INGEST}),
    Role.MARKETING: frozenset(
        {
            Permission.INGEST,
            Permission.READ,
            Permission.WRITE_LEADS,
            Permission.WRITE_ACCOUNTS,
            Permission.WRITE_EVENTS,
            Permission.PLAYBOOK,
        }
    ),
    Role.SALES: frozenset({Permission.READ, Permission.WRITE_LEADS, Permission.SALES}),
    Role.ADMIN: frozenset(Permission),
}


def allows(role: Role, permission: Permission) -> bool:
    """True when keys of this role may do this."""
    return permission in GRANTS[role]


class UserRole(StrEnum):
    """The role a person signs in to the web app with."""

    REP = "rep"
    MANAGER = "manager"
    MARKETING = "marketing"
    ADMIN = "admin"


USER_GRANTS: dict[UserRole, frozenset[Permission]] = {
    UserRole.REP: frozenset({Permission.READ, Permission.WRITE_LEADS, Permission.SALES}),
    # A manager sees the team, routing and alerts besides working leads.
    UserRole.MANAGER: frozenset(
        {Permission.READ, Permission.WRITE_LEADS, Permission.SALES, Permission.TEAM}
    ),
    UserRole.MARKETING: frozenset(
        {
            Permission.READ,
            Permission.WRITE_LEADS,
            Permission.WRITE_ACCOUNTS,
            Permission.WRITE_EVENTS,
            Permission.PLAYBOOK,
        }
    ),
    UserRole.ADMIN: frozenset(Permission),
}


def user_allows(role: UserRole, permission: Permission) -> bool:
    """True when people of this role may do this."""
    return permission in USER_GRANTS[role]
