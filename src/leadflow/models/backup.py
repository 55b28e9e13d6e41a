"""Backups of the whole database while it runs, and restores from them.

SQLite: the online backup API copies a consistent snapshot page by page while writers carry
on (they wait only for the moment each step holds the lock). PostgreSQL: `pg_dump` in its
custom format (a consistent snapshot too) and `pg_restore`. A backup is written to a temporary
file beside the target and renamed into place, so a failed backup never leaves half a file.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from leadflow.core.errors import Invalid

SQLITE_HEADER = b"SQLite format 3\x00"
PAGES_PER_STEP = 4096  # writers get the lock back between steps
PG_TIMEOUT = 6 * 3600


@dataclass(frozen=True, slots=True)
class Copied:
    """What a backup or restore did: the file, its size and the engine's tool."""

    path: Path
    bytes: int
    how: str


def backup(url: str, target: Path) -> Copied:
    """Copy the database at `url` into the file `target` (replaced only when complete)."""
    parsed = make_url(url)
    if target.is_dir():
        raise Invalid(f"{target}: a folder; give the backup file's name")
    if not target.parent.exists():
        raise Invalid(f"{target.parent}: no such folder")
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(handle)
    part = Path(temporary)
    try:
        how = _sqlite_backup(parsed, part) if _is_sqlite(parsed) else _pg_dump(parsed, part)
        part.replace(target)
    finally:
        part.unlink(missing_ok=True)
    return Copied(target, target.stat().st_size, how)


def restore(url: str, source: Path) -> Copied:
    """Replace the database at `url` with the backup in `source`."""
    if not source.is_file():
        raise Invalid(f"{source}: no such backup file")
    parsed = make_url(url)
    how = _sqlite_restore(source, parsed) if _is_sqlite(parsed) else _pg_restore(source, parsed)
    return Copied(source, source.stat().st_size, how)


def _is_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite"


def _sqlite_path(url: URL) -> str:
    if not url.database or url.database == ":memory:":
        raise Invalid("an in-memory SQLite database has nothing to back up")
    return url.database


def _sqlite_backup(url: URL, part: Path) -> str:
    path = _sqlite_path(url)
    if not Path(path).is_file():
        raise Invalid(f"{path}: no such database file")
    with _closing(sqlite3.connect(path)) as source, _closing(sqlite3.connect(part)) as copy:
        source.execute("PRAGMA busy_timeout=5000")
        source.backup(copy, pages=PAGES_PER_STEP)
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    return "SQLite online backup"


def _sqlite_restore(source: Path, url: URL) -> str:
    with source.open("rb") as handle:
        if handle.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
            raise Invalid(
                f"{source}: not a SQLite backup (a PostgreSQL dump needs a PostgreSQL URL)"
            )
    with _closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as backup_db:
        tables = {r[0] for r in backup_db.execute("SELECT name FROM sqlite_master")}
        if "alembic_version" not in tables:
            raise Invalid(f"{source}: not a leadflow database (no migration history)")
        with _closing(sqlite3.connect(_sqlite_path(url))) as target:
            target.execute("PRAGMA busy_timeout=5000")
            backup_db.backup(target, pages=PAGES_PER_STEP)
    return "SQLite online backup API"


class _closing:
    """sqlite3 connections as context managers that close (theirs only commit)."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    def __enter__(self) -> sqlite3.Connection:
        return self.connection

    def __exit__(self, *_: object) -> None:
        self.connection.close()


def _libpq(url: URL) -> str:
    """The URL as libpq reads it (no SQLAlchemy driver suffix)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise Invalid(
            f"{name} not found: install the PostgreSQL client tools (e.g. apt-get install "
            "postgresql-client), the same major version as the server or newer"
        )
    return found


def _run(command: list[str], what: str) -> None:
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=PG_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        raise Invalid(f"{what} took longer than {PG_TIMEOUT // 3600} hours; stopped") from None
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no message"])[-1]
        raise Invalid(f"{what} failed: {last}")


def _pg_dump(url: URL, part: Path) -> str:
    _run([_tool("pg_dump"), "--format=custom", f"--file={part}", f"--dbname={_libpq(url)}"],
         "pg_dump")  # fmt: skip
    return "pg_dump (custom format)"


def _pg_restore(source: Path, url: URL) -> str:
    with source.open("rb") as handle:
        if handle.read(5) != b"PGDMP":
            raise Invalid(f"{source}: not a PostgreSQL dump (a SQLite backup needs a SQLite URL)")
    command = [_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction"]
    _run([*command, f"--dbname={_libpq(url)}", str(source)], "pg_restore")
    return "pg_restore"
