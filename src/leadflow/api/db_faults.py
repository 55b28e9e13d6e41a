"""When the database cannot take a write: locked, not writable, or not reachable at all.

Either way the client gets a 503 with `Retry-After: 1` within about a second, never a 500:
request writers wait at most `WRITE_WAIT_MS` for the lock, and once one of them found the
database unavailable, the writers queued behind it in this process try once without waiting
for the next `BLOCKED_FOR` seconds instead of each waiting its full turn.
"""

from __future__ import annotations

import time

from sqlalchemy.exc import DBAPIError, OperationalError

# Lock waits that ran out: SQLite's busy timeout, PostgreSQL's deadlock or lock timeout.
BUSY_SIGNS = ("database is locked", "database is busy", "deadlock detected", "lock timeout")
# A database that refuses every write: a read-only file, volume or PostgreSQL standby.
READ_ONLY_SIGNS = ("readonly database", "read-only transaction", "read-only file system")
WRITE_WAIT_MS = 1000
BLOCKED_FOR = 1.0


# PostgreSQL error classes of a server that is down, restarting or unreachable: connection
# exceptions (08...), an administrator's shutdown or a server starting or stopping (57P0x).
DOWN_STATES = ("08", "57P01", "57P02", "57P03")
# Conflicts between transactions that a retry resolves: deadlock, serialization failure.
RETRY_STATES = ("40P01", "40001")
RETRIES = 3
# A lock wait that ran out (`lock_timeout`, 55P03). Between writers that lock rows in one
# order (`repositories._sql.ROW_LOCK`) it is rare; when it happens it is most often a
# deadlock that the timeout ended before PostgreSQL's detector would (`deadlock_timeout` is
# 1 s as well): the other transaction has gone on, so the work is tried once more. Only once:
# a lock someone holds for long (an administrator's LOCK TABLE) stays a 503 within ~2 s.
LOCK_TIMEOUT = "55P03"
LOCK_TIMEOUT_RETRIES = 1


def _state(exc: BaseException) -> str:
    return str(getattr(getattr(exc, "orig", None), "sqlstate", None) or "")


def down(exc: BaseException) -> bool:
    """The PostgreSQL server cannot be reached (stopped, restarting, network). SQLite's
    invalidated connections (a read-only file) are `unavailable`'s other cases."""
    if not isinstance(exc, DBAPIError) or not _postgres(exc):
        return False
    state = _state(exc)
    return (
        exc.connection_invalidated
        or state.startswith(DOWN_STATES)
        or (isinstance(exc, OperationalError) and not state)
    )


def _postgres(exc: DBAPIError) -> bool:
    # psycopg raises OperationalError without an SQL state when it cannot connect at all.
    return type(exc.orig).__module__.startswith("psycopg")


def retryable(exc: BaseException, attempt: int = 1) -> bool:
    """A conflict with another transaction that running the same work again resolves, after
    `attempt` tries that failed (the caller bounds them by `RETRIES`)."""
    if not isinstance(exc, DBAPIError):
        return False
    if _state(exc) == LOCK_TIMEOUT:
        return attempt <= LOCK_TIMEOUT_RETRIES
    return _state(exc).startswith(RETRY_STATES)


def unavailable(exc: BaseException) -> str | None:
    """The client's message when `exc` says the database cannot write now, else None."""
    if down(exc):
        return "the database is not reachable; nothing was applied, retry"
    if not isinstance(exc, OperationalError):
        return None
    text = str(exc.orig).lower()
    if any(sign in text for sign in READ_ONLY_SIGNS):
        return "the database is not writable; nothing was applied, retry later"
    if any(sign in text for sign in BUSY_SIGNS):
        return "the database is locked by another writer; nothing was applied, retry"
    return None


class Blocked:
    """Remembers, per process, that a writer just found the database unavailable."""

    def __init__(self) -> None:
        self._until = 0.0

    def note(self, exc: BaseException) -> None:
        """Called with a failed writer's error: an unavailable database starts the window."""
        if unavailable(exc) is not None:
            self._until = time.monotonic() + BLOCKED_FOR

    def wait_ms(self) -> int:
        """How long the next writer may wait for the lock: not at all inside the window."""
        return 0 if time.monotonic() < self._until else WRITE_WAIT_MS
