"""Copy a SQLite database of leadflow's into an empty PostgreSQL database, row for row.

The PostgreSQL schema is the migrations' own (`upgrade()` to the code's heads, which the
SQLite file must be at), so PostgreSQL-only indexes and triggers are exactly what the
migrations make. Its secondary indexes are dropped while loading and built again from their
recorded definitions afterwards; the rows go over with COPY; then the sequences move past
the copied ids and VACUUM (ANALYZE) leaves statistics and a visibility map. Derived tables
(name blocks, rollups, lead tallies, won credit, ...) are copied as SQLite's migrations and
triggers filled them in, not recomputed: PostgreSQL's triggers are off during the load. So
they hold SQLite's answers: `name_blocks` keys are SQLite's `lower()`, which folds ASCII only
(PostgreSQL folds every letter), so a source with non-ASCII last names would need its blocks
rebuilt after the copy; the demo's and the benchmarks' names are ASCII.

Used by the benchmarks (a million-lead build in minutes, not hours: benchmarks/_from_sqlite.py)
and by tests whose fixture is a large build (tests/services/test_model.py). The SQLite file is
opened read-only and never changed. Needs a superuser (triggers and foreign-key checks are
off for the loading session), as the local servers of the tests and benchmarks have.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Boolean, inspect, make_url

from leadflow.models.db import make_engine, upgrade

# Not application tables: Alembic's own (written by upgrade()) and SQLite's statistics.
SKIPPED = {"alembic_version", "sqlite_stat1"}
Log = Callable[[str], None]


def open_read_only(path: Path) -> sqlite3.Connection:
    """The SQLite file, read-only (the URI form refuses every write)."""
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def connect(url: str, **options: Any) -> psycopg.Connection[Any]:
    """A plain psycopg connection to a SQLAlchemy PostgreSQL URL."""
    plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    return psycopg.connect(plain, **options)


def _quiet(_: str) -> None:
    pass


def copy_database(source: Path, url: str, log: Log = _quiet) -> None:
    """Copy every table of the SQLite database `source` into the PostgreSQL database `url`
    (upgraded first to the code's migration heads; its tables must be empty)."""
    upgrade(url)
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            columns = {
                table: {c["name"]: c["type"] for c in inspect(connection).get_columns(table)}
                for table in inspect(connection).get_table_names()
            }
    finally:
        engine.dispose()
    con = open_read_only(source)
    try:
        with connect(url) as pg:
            pg.execute("SET TIME ZONE 'UTC'")  # SQLite's timestamps are UTC wall-clock text
            # Off for this session only: user triggers (the derived rows are copied as they
            # are) and the foreign keys' checks (the rows come from a consistent database).
            pg.execute("SET session_replication_role = replica")
            pg.execute("SET maintenance_work_mem = '512MB'")  # this session's index builds
            indexes = drop_secondary_indexes(pg)
            for table in tables_to_copy(con, columns, log):
                copy_table(con, pg, table, columns[table], log)
            build_indexes(pg, indexes, log)
            move_sequences(pg)
            pg.commit()
    finally:
        con.close()
    with connect(url, autocommit=True) as pg:
        started = time.perf_counter()
        pg.execute("VACUUM (ANALYZE)")  # statistics, and the visibility map for index-only scans
        log(f"  VACUUM (ANALYZE) {time.perf_counter() - started:.0f} s")


def drop_secondary_indexes(pg: Any) -> list[tuple[str, str]]:
    """Drop the indexes no constraint owns (primary keys and unique constraints stay) and
    return their names and definitions, as the migrations made them."""
    indexes = pg.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'"
        " AND indexname NOT IN (SELECT conname FROM pg_constraint) ORDER BY indexname"
    ).fetchall()
    for name, _ in indexes:
        pg.execute(f'DROP INDEX "{name}"')
    return list(indexes)


def tables_to_copy(
    con: sqlite3.Connection, columns: dict[str, dict[str, Any]], log: Log
) -> list[str]:
    """The tables both databases hold; the others are named (a schema difference to know)."""
    in_sqlite = {
        row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    }
    # The benchmarks' done-markers are written after the copy, by the benchmark itself.
    only_sqlite = {t for t in in_sqlite - set(columns) - SKIPPED if not t.startswith("benchmark_")}
    only_pg = set(columns) - in_sqlite - SKIPPED
    if only_sqlite or only_pg:
        log(
            f"  not copied: only in SQLite {sorted(only_sqlite)}, only in PostgreSQL"
            f" {sorted(only_pg)}"
        )
    return sorted((in_sqlite & set(columns)) - SKIPPED)


def copy_table(
    con: sqlite3.Connection, pg: Any, table: str, pg_columns: dict[str, Any], log: Log
) -> None:
    """Stream one table's rows with COPY, converting what PostgreSQL's types need."""
    sqlite_columns = [row[1] for row in con.execute(f'PRAGMA table_info("{table}")')]
    names = [name for name in sqlite_columns if name in pg_columns]
    missing = set(pg_columns) - set(names)
    if missing or len(names) != len(sqlite_columns):
        log(
            f"  {table}: columns only in PostgreSQL {sorted(missing)}, only in SQLite"
            f" {sorted(set(sqlite_columns) - set(names))}"
        )
    started = time.perf_counter()
    quoted = ", ".join(f'"{name}"' for name in names)
    rows = con.execute(f'SELECT {quoted} FROM "{table}"')
    written = 0
    with pg.cursor() as cursor, cursor.copy(f'COPY "{table}" ({quoted}) FROM STDIN') as copy:
        for row in converted(rows, [pg_columns[name] for name in names]):
            copy.write_row(row)
            written += 1
    expected = con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
    if written != expected:
        raise RuntimeError(f"{table}: copied {written:,} rows of {expected:,}")
    if written:
        log(f"  {table}: {written:,} rows in {time.perf_counter() - started:.0f} s")


def converted(rows: Iterable[Sequence[Any]], types: Sequence[Any]) -> Iterable[Sequence[Any]]:
    """SQLite's values as PostgreSQL takes them. COPY's text format parses the rest as it
    stands: timestamps ('YYYY-MM-DD HH:MM:SS.ffffff', UTC in this session), JSON text,
    numbers. Only booleans need a change: SQLite keeps 0/1, and 0/1 are integers to psycopg."""
    flags = {i for i, kind in enumerate(types) if isinstance(kind, Boolean)}
    if not flags:
        return rows
    return (
        [bool(v) if i in flags and v is not None else v for i, v in enumerate(row)] for row in rows
    )


def build_indexes(pg: Any, indexes: Sequence[tuple[str, str]], log: Log) -> None:
    started = time.perf_counter()
    for name, sql in indexes:
        began = time.perf_counter()
        pg.execute(sql)
        if time.perf_counter() - began >= 1:
            log(f"  index {name}: {time.perf_counter() - began:.0f} s")
    log(f"  {len(indexes)} indexes in {time.perf_counter() - started:.0f} s")


def move_sequences(pg: Any) -> None:
    """Each serial or identity column's sequence past the largest id copied (the rows were
    given their ids, so the sequences never moved)."""
    owned = pg.execute(
        "SELECT table_name, column_name, pg_get_serial_sequence(format('%I', table_name),"
        " column_name) FROM information_schema.columns WHERE table_schema = 'public'"
        " AND pg_get_serial_sequence(format('%I', table_name), column_name) IS NOT NULL"
    ).fetchall()
    for table, column, sequence in owned:
        pg.execute(
            f'SELECT setval(%s, COALESCE((SELECT max("{column}") FROM "{table}"), 0) + 1, false)',
            (sequence,),
        )
