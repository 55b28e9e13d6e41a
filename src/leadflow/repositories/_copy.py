"""PostgreSQL: many rows in through one COPY, then one set-based statement.

An executemany of a per-row UPDATE or INSERT costs PostgreSQL a statement of its own for
every row (parse-free, but planned, executed and answered one by one), with client and
server taking turns on a shared machine. COPY streams every row in one statement; the
caller's UPDATE ... FROM (or INSERT ... SELECT) then applies them all at once. The staging
table is TEMPORARY and ON COMMIT DROP, so it lives in the caller's transaction only: dropped
after use, and by the rollback or commit should the caller's statement fail.

Values go in as the driver would bind them (`_driver`'s column processors, or driver-ready
values): psycopg's text COPY writes each by its Python type (NULL as NULL, floats exactly,
tz-aware timestamps with their offset, JSON through the connection's own serializer) and the
server parses them as the staging column's type, which is the target column's.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from itertools import repeat
from typing import Any

from sqlalchemy import Column, Integer, MetaData, Table
from sqlalchemy.orm import Session

# Below this many rows a per-row executemany costs less than creating, filling and dropping
# a staging table (four statements), and the per-event paths stay as they were.
COPY_FROM = 100
SEQ = "_seq"  # the staged rows' order, for an INSERT that must keep it (ids in row order)

_names = itertools.count()


def use_copy(session: Session, count: int) -> bool:
    """Whether to write `count` rows through COPY: PostgreSQL, and enough rows to pay."""
    return session.get_bind().dialect.name == "postgresql" and count >= COPY_FROM


def like(table: Table, names: Sequence[str]) -> list[Column[Any]]:
    """Staging columns of the same names and types as these columns of `table`, nullable."""
    return [Column(name, table.c[name].type) for name in names]


def copy_into(session: Session, table: Table, columns: dict[str, Any]) -> None:
    """COPY column-wise rows (lists of equal length; `repeat(v)` for one value for every
    row) into `table`'s columns of those names, in the session's transaction."""
    connection = session.connection()
    quote = connection.dialect.identifier_preparer
    names = ", ".join(quote.quote(name) for name in columns)
    raw: Any = connection.connection.dbapi_connection
    sql = f"COPY {quote.format_table(table)} ({names}) FROM STDIN"
    with raw.cursor() as cursor, cursor.copy(sql) as copy:
        for row in zip(*columns.values(), strict=False):
            copy.write_row(row)


@contextmanager
def staged(
    session: Session, columns: Sequence[Column[Any]], rows: dict[str, Any], *, ordered: bool = False
) -> Iterator[Table]:
    """A TEMPORARY table of these columns holding these column-wise rows (`repeat(v)` for a
    value shared by every row; at least one column must be a list), for the caller's
    statements; with `ordered`, a column `_seq` numbering the rows 0, 1, ..."""
    count = max(len(v) for v in rows.values() if not isinstance(v, repeat))
    if ordered:
        columns = [*columns, Column(SEQ, Integer)]
        rows = {**rows, SEQ: range(count)}
    connection = session.connection()
    name = f"leadflow_staged_{next(_names)}"
    table = Table(name, MetaData(), *columns, prefixes=["TEMPORARY"], postgresql_on_commit="DROP")
    table.create(connection)
    copy_into(session, table, rows)
    # Its statistics tell the planner its size (a fresh temporary table has none; ANALYZE
    # samples, so it is cheap): the join below looks each staged row up by index.
    connection.exec_driver_sql(f"ANALYZE {connection.dialect.identifier_preparer.quote(name)}")
    saved = connection.exec_driver_sql(_SAVE).one()
    connection.exec_driver_sql(_IN_ORDER)
    yield table
    # Not in a `finally`: after a failed statement PostgreSQL refuses every statement until
    # the rollback, which drops the table and undoes SET LOCAL anyway (ON COMMIT DROP covers
    # a commit).
    connection.exec_driver_sql(_RESTORE, tuple(saved))
    table.drop(connection)


# While a staging table is in use, joins with it are nested loops driven by its rows in the
# order they were staged: an UPDATE ... FROM it then locks its target rows in the order the
# per-row executemany did (the rows' order as given), where a hash join would lock them in the
# table's physical order, and two writers taking the same rows in different orders deadlock.
_SAVE = "SELECT current_setting('enable_hashjoin'), current_setting('enable_mergejoin')"
_SET = "SELECT set_config('enable_hashjoin', {}, true), set_config('enable_mergejoin', {}, true)"
_IN_ORDER = _SET.format("'off'", "'off'")
_RESTORE = _SET.format("%s", "%s")
