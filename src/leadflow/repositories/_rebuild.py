"""SQLite: a table's indexes set aside while a bulk write rewrites much of it, rebuilt after.

Building an index once by sorting costs a fraction of updating it row by row: at 100,000 new
leads, inserting them with the 20 indexes of `leads` in place took more than twice as long as
inserting them bare and building the indexes after (README, "Importing 100,000 leads"). The
drop is part of the transaction, so a rollback brings the indexes back as well. PostgreSQL
writes many rows from a staging table instead (`_copy`), and cannot drop an index inside a
transaction without blocking every reader.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from sqlalchemy import Table
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

# A write of more rows than this share of the table's rows rebuilds the indexes it touches...
SHARE = 0.25
# ...when it writes at least this many: below, the statements the rebuild costs (and the
# schema change every other connection then re-reads) are not worth it.
AT_LEAST = 5_000


@contextmanager
def rewriting(
    session: Session, table: Table, rows: int, columns: Iterable[str] | None
) -> Iterator[None]:
    """A context for a bulk write of `rows` rows of `table` that sets `columns` (None: inserts
    whole rows): on SQLite, when those rows are more than `SHARE` of the table's, its indexes
    on those columns are set aside meanwhile and rebuilt when it ends. Unique indexes stay:
    they are constraints (and what ON CONFLICT looks up)."""
    connection = session.connection()
    if connection.dialect.name != "sqlite" or rows < AT_LEAST:
        yield
        return
    # The largest rowid bounds the table's rows from above without counting them.
    stored = connection.exec_driver_sql(f'SELECT max(rowid) FROM "{table.name}"').scalar() or 0
    after = stored + rows if columns is None else stored
    if rows <= SHARE * after:
        yield
        return
    with indexes_set_aside(session, table, columns):
        yield


@contextmanager
def indexes_set_aside(
    session: Session, table: Table, columns: Iterable[str] | None
) -> Iterator[None]:
    """SQLite: drop the table's non-unique indexes on these columns (None: all of them),
    rebuild them after."""
    if session.get_bind().dialect.name != "sqlite":
        yield
        return
    connection = session.connection()
    aside = _indexes_on(connection, table.name, None if columns is None else set(columns))
    for name, _ in aside:
        connection.exec_driver_sql(f'DROP INDEX "{name}"')
    failed = True
    try:
        yield
        failed = False
    finally:
        for _, sql in aside:
            try:
                connection.exec_driver_sql(sql)
            except Exception:
                if not failed:  # else the first error is the one to report
                    raise


def _indexes_on(
    connection: Connection, table: str, wanted: set[str] | None
) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the table's declared, non-unique indexes on these columns
    (None: all); one on an expression (`lower(name)`) is left in place for an update, which
    then keeps it current as SQLite always does."""
    unique = {row[1] for row in connection.exec_driver_sql(f'PRAGMA index_list("{table}")')
              if row[2]}  # fmt: skip
    found = connection.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?"
        " AND sql IS NOT NULL",
        (table,),
    ).all()
    aside = []
    for name, sql in found:
        if name in unique:
            continue
        on = {row[2] for row in connection.exec_driver_sql(f'PRAGMA index_info("{name}")')}
        if wanted is None or wanted & on:
            aside.append((name, sql))
    return aside
