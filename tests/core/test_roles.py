"""What each API key role may do is the README's table ("API keys and roles"), row by row."""

from __future__ import annotations

from leadflow.core.roles import GRANTS, Permission, Role, allows

# The README's table, in permissions: a change to either is a change to both.
README_TABLE = {
    # send events to /v1 only
    Role.INGEST: {"ingest"},
    # send events; read; create and edit leads, accounts and events; the playbook
    Role.MARKETING: {"ingest", "read", "write_leads", "write_accounts", "write_events", "playbook"},
    # read; create and edit leads; stage actions and touches
    Role.SALES: {"read", "write_leads", "sales"},
    # everything
    Role.ADMIN: {p.value for p in Permission},
}


def test_each_role_is_granted_exactly_its_row_of_the_readme_table() -> None:
    assert {role: {p.value for p in GRANTS[role]} for role in Role} == README_TABLE


def test_only_marketing_and_admin_write_accounts_and_events() -> None:
    for name in ("write_accounts", "write_events"):
        allowed = {role for role in Role if allows(role, Permission(name))}
        assert allowed == {Role.MARKETING, Role.ADMIN}, name
