"""Columnar reads of SQLite through ADBC, in child processes (see `_sqlite_arrow`).

A child is another connection: it sees what the session sees only while the session's
transaction has written nothing, so `readable_path` says when one may be used. pyarrow is
imported only on first use.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, Integer, String
from sqlalchemy.orm import Session

from leadflow.repositories._bulk import dialect_name

_CHILD = Path(__file__).with_name("_sqlite_arrow.py")
log = logging.getLogger("leadflow.arrow")
CHANGES_AT_BEGIN = "leadflow_changes_at_begin"  # set by models.db when SQLite begins


def readable_path(session: Session) -> str | None:
    """The SQLite file a child may read for this session (None: PostgreSQL, in memory, or the
    transaction has written, so a second connection would not see the same rows)."""
    if dialect_name(session) != "sqlite":
        return None
    connection = session.connection()
    raw: Any = connection.connection.dbapi_connection
    database = connection.engine.url.database
    begun = connection.info.get(CHANGES_AT_BEGIN)
    if not database or database == ":memory:" or begun != getattr(raw, "total_changes", None):
        return None
    return str(Path(database).resolve())


def start(database: str, query: str, *, whole: bool = False) -> subprocess.Popen[bytes]:
    """A child reading `query`; `whole` types each column from all its rows, not the first
    batch (for columns that may start with NULLs)."""
    command = [sys.executable, str(_CHILD), database, query, *(["--whole"] if whole else [])]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finish(child: subprocess.Popen[bytes]) -> Any:
    """The child's rows as an Arrow table; RuntimeError with its message when it failed."""
    import pyarrow as pa

    with child:
        assert child.stdout is not None and child.stderr is not None
        try:
            table = pa.ipc.open_stream(child.stdout).read_all()
        except (pa.ArrowInvalid, OSError):  # OSError: a stream cut off (the child killed)
            table = None
        errors = child.stderr.read().decode(errors="replace").strip()
    if child.returncode or table is None:
        raise RuntimeError(f"reading through ADBC failed: {errors[-500:] or _ended(child)}")
    return table


def _ended(child: subprocess.Popen[bytes]) -> str:
    """How a child that wrote no error ended."""
    code = child.returncode
    return f"killed by signal {-code}" if code and code < 0 else f"exit status {code}"


class Reading:
    """Children reading queries at once, each one's pipe drained by a thread from the start
    (a child waits on a full pipe), so they read while the caller works."""

    def __init__(self, database: str, queries: list[str]) -> None:
        self._children = [start(database, query) for query in queries]
        self._pool = ThreadPoolExecutor(max(1, len(queries)))
        self._tables = [self._pool.submit(finish, child) for child in self._children]

    def tables(self) -> list[Any] | None:
        """Every query's table, in order; None when a child failed (logged): the caller reads
        rows instead, so a child killed (out of memory, by an operator) costs time, not the
        command."""
        try:
            return [table.result() for table in self._tables]
        except RuntimeError as error:
            log.warning("%s; reading rows instead", error)
            return None
        finally:
            self._pool.shutdown()

    def abandon(self) -> None:
        """Stop the children (a no-op for those finished) and their threads."""
        for child in self._children:
            child.kill()
        self._pool.shutdown()


def read_all_or_none(database: str, queries: list[str]) -> list[Any] | None:
    """Each query's table, read by children at once; None when one failed (`Reading`)."""
    return Reading(database, queries).tables()


def read(database: str, query: str, *, whole: bool = False) -> Any:
    """The rows of `query` as an Arrow table, read by a child process."""
    return finish(start(database, query, whole=whole))


def typed_as(array: Any, column_type: Any) -> bool:
    """True when an Arrow column holds what the driver would give for an SQL type: text as
    strings, whole numbers as int64, other numbers as double (a column of NULLs is typed
    as anything). Read with `whole`, a column of mixed types is text or bytes: False."""
    import pyarrow as pa

    if array.null_count == len(array):
        return True
    if isinstance(column_type, Boolean | Integer):
        return bool(array.type == pa.int64())
    if isinstance(column_type, Float):
        return bool(array.type == pa.float64())
    if isinstance(column_type, String | JSON | DateTime):
        return bool(array.type in (pa.string(), pa.large_string()))
    return False
