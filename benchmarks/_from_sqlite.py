"""Copy a finished SQLite benchmark build into an empty PostgreSQL database (a helper, not a
benchmark): minutes instead of the hour and a half a PostgreSQL build from scratch takes at a
million leads, for the same rows. The copy itself is `tests/sqlite_copy.py` (the model tests
fill their PostgreSQL demo company the same way); this adds what marks a benchmark build.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests/sqlite_copy.py

from tests.sqlite_copy import copy_database, open_read_only

__all__ = ["code_heads", "copy_sqlite_build", "open_read_only", "sqlite_build_problem",
           "sqlite_heads"]  # fmt: skip


def sqlite_heads(con: sqlite3.Connection) -> set[str]:
    return {row[0] for row in con.execute("SELECT version_num FROM alembic_version")}


def code_heads() -> set[str]:
    from alembic.script import ScriptDirectory

    from leadflow.models.db import alembic_config

    return set(ScriptDirectory.from_config(alembic_config()).get_heads())


def sqlite_build_problem(path: Path, meta: dict[str, str], done_marker: str) -> str | None:
    """Why the SQLite file is no finished build of these sizes at the code's migration heads,
    or None when it is one."""
    if not path.exists():
        return f"{path} does not exist"
    con = open_read_only(path)
    try:
        tables = {
            row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        if "benchmark_meta" not in tables or done_marker not in tables:
            return f"{path} is no finished benchmark build (no benchmark_meta or {done_marker})"
        found = dict(con.execute("SELECT key, value FROM benchmark_meta").fetchall())
        if found != meta:
            return f"{path} holds another build: {found}, not {meta}"
        if sqlite_heads(con) != code_heads():
            return f"{path} is at migrations {sorted(sqlite_heads(con))}, not the code's heads"
    finally:
        con.close()
    return None


def copy_sqlite_build(source: Path, url: str, psycopg_connect: Callable[..., Any]) -> None:
    """Copy every table of the SQLite build `source` into the empty PostgreSQL database `url`
    (after upgrading it to the same migration heads): `tests/sqlite_copy.py`."""
    with psycopg_connect(url, autocommit=True) as pg:
        # First, and empty until the copy commits: a copy cut short is then still known
        # for a benchmark build (rescore.empty_schema drops it next time; matches() fails).
        pg.execute("CREATE TABLE benchmark_meta (key TEXT PRIMARY KEY, value TEXT)")
    copy_database(source, url, lambda line: print(line, flush=True))
