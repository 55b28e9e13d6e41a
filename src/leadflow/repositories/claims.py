"""Claims on names (an e-mail, a company domain, a visitor id) held until the commit.

Two transactions that create the same new people and companies in different orders would wait
for each other crosswise on the unique keys (a deadlock). Claiming every name a batch may
create, in one global order, before creating any, makes the second wait for the first instead.
PostgreSQL only (transaction-level advisory locks); SQLite has one writer at a time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.orm import Session

_CLAIM = text("SELECT count(pg_advisory_xact_lock(k)) FROM unnest(CAST(:keys AS bigint[])) AS k")


def lock_number(name: str) -> int:
    """The 64-bit advisory lock number of a name (namespaced to leadflow)."""
    digest = hashlib.blake2b(f"leadflow:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def email_name(address: str) -> str:
    """The name an e-mail address (in its one form) is claimed under."""
    return f"email:{address}"


def claim(session: Session, names: Iterable[str]) -> None:
    """Hold these names until the commit, taken in ascending lock number (one global order)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    keys = sorted({lock_number(name) for name in names})
    if keys:
        session.execute(_CLAIM, {"keys": keys})
