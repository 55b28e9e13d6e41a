"""0054 marks the users whose role single sign-on gave (the audit log's `user.created` or
`user.role_changed` by actor `sso`, the only ways a role was given after a user was made):
their role is the provider's to take away. Users made and kept in leadflow are not marked."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import text

from leadflow.models.db import make_engine, upgrade

AT = datetime(2026, 11, 20, tzinfo=UTC)
USER = (
    "INSERT INTO users (id, email, name, role, password_hash, active, created_at)"
    " VALUES (:id, :email, :email, :role, 'x', :yes, :at)"
)
SIGNED_IN = (
    "INSERT INTO web_sessions (token_hash, user_id, csrf_token, created_at, expires_at)"
    " VALUES ('h', 1, 'c', :at, :at)"
)
AUDIT = (
    "INSERT INTO audit_log (at, actor, action, target, details)"
    " VALUES (:at, :actor, :action, :target, :details)"
)


def test_0054_marks_the_users_whose_role_sign_on_gave(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine, "0008")
    with engine.begin() as db:
        people = [(1, "made@x.io", "manager"), (2, "moved@x.io", "admin"),
                  (3, "local@x.io", "rep"), (4, "other@x.io", "rep")]  # fmt: skip
        for number, email, role in people:
            db.execute(text(USER), {"id": number, "email": email, "role": role, "at": AT,
                                    "yes": True})  # fmt: skip
        for actor, action, target in [
            ("sso", "user.created", "made@x.io"),
            ("sso", "user.role_changed", "moved@x.io"),
            ("ana", "user.created", "local@x.io"),  # made by a person: not the provider's
            ("sso", "lead.merge", "other@x.io"),  # another action
        ]:
            db.execute(text(AUDIT), {"at": AT, "actor": actor, "action": action,
                                     "target": target, "details": json.dumps({})})  # fmt: skip
        db.execute(text(SIGNED_IN), {"at": AT})
    upgrade(engine)
    with engine.connect() as db:
        found = db.execute(text("SELECT email, role_from_sso FROM users ORDER BY id")).all()
        sessions = db.execute(text("SELECT count(*) FROM web_sessions")).scalar_one()
    engine.dispose()
    assert sessions == 1  # nobody signed out (copying the table on SQLite cascaded to them)
    assert [(email, bool(marked)) for email, marked in found] == [
        ("made@x.io", True), ("moved@x.io", True), ("local@x.io", False), ("other@x.io", False)
    ]  # fmt: skip
