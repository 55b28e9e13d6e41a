"""SQLite: a table's indexes set aside while a bulk write rewrites much of it, rebuilt after.

Building an index once by sorting costs a fraction of updating it row by row: at 100,000 new
leads, inserting them with the 20 indexes of `leads` in place took more than twice as long as
inserting them bare and building the indexes after (README, "Importing 100,000 leads"). The
drop is part of the transaction, so a rollback brings the indexes back as well. PostgreSQL
writes many rows from a staging table instead (`_copy`), and cannot drop an index inside a
transaction without blocking every reader.

A job that makes several bulk writes of one table in a row (an import: the leads, their first
scores, their stage moves) runs them within `once`: each index is set aside at the first write
that would, and rebuilt once, when `once` ends or when a step that reads through the indexes
asks (`settle`), instead of once per write.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

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


@dataclass(frozen=True, slots=True)
class _Aside:
    """An index set aside: its table, its first column (None: an expression), its CREATE."""

    table: str
    leading: str | None
    sql: str


# Where `once` keeps, on the connection, every index it has set aside (by name).
_PENDING = "leadflow_indexes_aside"


@contextmanager
def once(session: Session) -> Iterator[None]:
    """Bulk writes within set each index aside at most once; those set aside are rebuilt when
    it ends (and by `settle`). Nested: the outermost one rebuilds."""
    connection = session.connection()
    if connection.dialect.name != "sqlite" or _PENDING in connection.info:
        yield
        return
    connection.info[_PENDING] = {}
    failed = True
    try:
        yield
        failed = False
    finally:
        try:
            settle(session)
        except Exception:
            if not failed:  # else the first error is the one to report
                raise
        finally:
            # An invalidated connection (a write interrupted, the database gone) holds no
            # bookkeeping any more, and asking it would raise over the error that ended it.
            if not connection.invalidated:
                connection.info.pop(_PENDING, None)


def settle(session: Session, table: str | None = None, leading: Iterable[str] = ()) -> None:
    """Rebuild now the indexes set aside within `once` that are not there: all of them, or
    those of `table` (whose first column is one of `leading`, when given), for a step that
    reads a few rows through them next. A no-op outside `once`.

    Whether an index is there is asked of the schema, not remembered: a savepoint rolled back
    meanwhile may have brought one back, or taken a rebuilt one away again."""
    connection = session.connection()
    pending: dict[str, _Aside] = connection.info.get(_PENDING, {})
    firsts = set(leading)
    wanted = {name: index for name, index in pending.items()
              if table is None or _serves(index, table, firsts)}  # fmt: skip
    if not wanted:
        return
    present = {row[0] for row in connection.exec_driver_sql(
        "SELECT name FROM sqlite_master WHERE type = 'index'")}  # fmt: skip
    for name, index in wanted.items():
        if name not in present:
            connection.exec_driver_sql(index.sql)


def settle_for(session: Session, column: Any) -> None:
    """Before a read that finds rows by this column's values (a chunk of ids at a time): its
    indexes set aside within `once`, rebuilt. The primary key needs none."""
    element = column.__clause_element__() if hasattr(column, "__clause_element__") else column
    table = getattr(element, "table", None)
    if table is not None and not element.primary_key:
        settle(session, table.name, {element.name})


def _serves(aside: _Aside, table: str, firsts: set[str]) -> bool:
    return aside.table == table and (not firsts or aside.leading in firsts)


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
    for name, _, _ in aside:
        connection.exec_driver_sql(f'DROP INDEX "{name}"')
    pending: dict[str, _Aside] | None = connection.info.get(_PENDING)
    if pending is not None:  # within `once`: rebuilt when it ends
        pending.update((name, _Aside(table.name, first, sql)) for name, first, sql in aside)
        yield
        return
    failed = True
    try:
        yield
        failed = False
    finally:
        for _, _, sql in aside:
            try:
                connection.exec_driver_sql(sql)
            except Exception:
                if not failed:  # else the first error is the one to report
                    raise


def _indexes_on(
    connection: Connection, table: str, wanted: set[str] | None
) -> list[tuple[str, str | None, str]]:
    """(name, first column, CREATE statement) of the table's declared, non-unique indexes on
    these columns (None: all); one on an expression (`lower(name)`) is left in place for an
    update, which then keeps it current as SQLite always does."""
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
        on = [row[2] for row in connection.exec_driver_sql(f'PRAGMA index_info("{name}")')]
        if wanted is None or wanted & set(on):
            aside.append((name, on[0] if on else None, sql))
    return aside
