"""Questions about the database itself: can it take a write now?"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session


def check_writable(session: Session) -> bool:
    """False when the database refuses writes; a lock wait that runs out raises.

    On SQLite the caller's transaction began IMMEDIATE (it holds the write lock, or its wait
    ran out); a read-only file refuses only the first page written, so one row is rewritten
    unchanged and rolled back by the caller. PostgreSQL says so itself (a standby, or
    `default_transaction_read_only`).
    """
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("UPDATE alembic_version SET version_num = version_num"))
        return True
    read_only = session.scalar(
        text("SELECT pg_is_in_recovery() OR current_setting('transaction_read_only') = 'on'")
    )
    return not read_only
