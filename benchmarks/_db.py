"""The database a benchmark runs on: `--db` for every benchmark (a helper, not a benchmark).

--db ""                     (default) a fresh SQLite file, as before
--db sqlite:///PATH | PATH  that SQLite file
--db postgresql             a throw-away local PostgreSQL server, started for this run and
                            removed after it (tests/postgres_server.py, as the tests start
                            theirs); the benchmarks that build a big database once
                            (rescore, reports) keep its data directory under the temporary
                            folder instead, keyed by size like their SQLite files
--db postgresql://...       a PostgreSQL database of your own, used as it is (give an empty
                            one: the benchmark installs the schema and its data there)
"""

from __future__ import annotations

import os
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # for tests/postgres_server.py

from leadflow.models.db import make_engine  # noqa: E402

HELP = (
    "database: empty for a fresh SQLite file, a SQLite path, `postgresql` for a throw-away "
    "local PostgreSQL server, or a postgresql://USER@HOST/DB URL of an empty database"
)


@dataclass
class Database:
    """A benchmark's database: its URL and, for a server started here, its process id."""

    url: str
    server_pid: int | None = None

    @property
    def is_postgresql(self) -> bool:
        return self.url.startswith("postgres")

    def describe(self) -> str:
        """`SQLite 3.40.1` or `PostgreSQL 15.18 (local throw-away server, defaults)`."""
        if not self.is_postgresql:
            return f"SQLite {sqlite3.sqlite_version}"
        engine = make_engine(self.url)
        try:
            with engine.connect() as connection:
                version = connection.execute(text("SHOW server_version")).scalar()
        finally:
            engine.dispose()
        where = "local server started for this run" if self.server_pid else "given server"
        return f"PostgreSQL {str(version).split()[0]} ({where})"

    def cpu(self) -> float:
        """CPU seconds (user+sys) the database server has used so far: the server started here,
        its live backends and the backends that have ended. 0 for SQLite (it runs inside the
        leadflow process, whose CPU the benchmarks count already) and for a given server."""
        if self.server_pid is None:
            return 0.0
        total = process_cpu(self.server_pid, with_ended_children=True)
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and parent_of(int(entry.name)) == self.server_pid:
                total += process_cpu(int(entry.name), with_ended_children=False)
        return total


def _stat(pid: int) -> list[str]:
    """/proc/PID/stat's fields after the command name (field 3 onwards)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []


def parent_of(pid: int) -> int | None:
    fields = _stat(pid)
    return int(fields[1]) if fields else None


def process_cpu(pid: int, *, with_ended_children: bool) -> float:
    """User + system CPU seconds of a process (and of its waited-for children), Linux /proc."""
    fields = _stat(pid)
    if not fields:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    if with_ended_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / os.sysconf("SC_CLK_TCK")


def tree_cpu(pid: int) -> float:
    """User + system CPU seconds of a process and all its descendants, live or ended (those
    its processes have waited for): a server of several worker processes, as a whole."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (parent := parent_of(int(entry.name))) is not None:
            children.setdefault(parent, []).append(int(entry.name))
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        total += process_cpu(current, with_ended_children=True)
        todo += children.get(current, [])
    return total


def _postmaster_pid(datadir: str) -> int | None:
    try:
        return int(Path(datadir, "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


@contextmanager
def database(db: str, *, sqlite_file: Path, keep_under: str | None = None) -> Iterator[Database]:
    """The database `--db` names (see the module's help). `sqlite_file` is the default;
    `keep_under` names the folder (under the temporary folder) whose PostgreSQL data directory
    is kept between runs, for the benchmarks that reuse a big build."""
    if not db.startswith("postgres"):
        path = Path(db.removeprefix("sqlite:///")) if db else sqlite_file
        yield Database(f"sqlite:///{path}")
        return
    if db not in {"postgresql", "postgres"}:
        yield Database(db)
        return
    import tempfile

    from tests.postgres_server import create_database, local_server

    folder = Path(tempfile.gettempdir(), keep_under) if keep_under else None
    if folder is not None:
        print(f"PostgreSQL data directory kept in {folder} (remove it to rebuild)", flush=True)
    with local_server(folder, keep=folder is not None) as proc:
        url = create_database(proc, "bench")
        yield Database(url, _postmaster_pid(proc.datadir))
