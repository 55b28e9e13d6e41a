"""Bulk SQL helpers: JSON and time expressions, plain-tuple reads, driver-level executemany.

At a million rows SQLAlchemy's per-row result and parameter processing costs more than the
database work, so statements are built with Core and run on the session's DBAPI cursor.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice, repeat
from operator import itemgetter
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    case,
    cast,
    func,
    literal,
    select,
    type_coerce,
)
from sqlalchemy.orm import InstrumentedAttribute, Session

from leadflow.models.db import Base
from leadflow.repositories._copy import staged
from leadflow.repositories._rebuild import settle_for
from leadflow.repositories._sql import chunked

Columns = dict[str, Sequence[Any]]
FETCH = 250_000  # rows per fetch: big enough to amortise, small enough to stay lean
CHUNK = 10_000  # rows per executemany call: amortised, and short-lived
BULK_CACHE_KIB = 1 << 20  # 1 GiB of SQLite page cache during a bulk job
BIG_READ_CACHE_KIB = 64 * 1024  # one report's read: 64 MB, given back after
BULK_MMAP_BYTES = 1 << 32  # SQLite caps this at its compile-time maximum


def table_of(model: type[Base]) -> Table:
    """The model's table (typed as a Table)."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


def dialect_name(session: Session) -> str:
    """`sqlite` or `postgresql`."""
    return session.get_bind().dialect.name


def json_text(session: Session, column: Any, keys: Sequence[str]) -> ColumnElement[str]:
    """The JSON text at `keys` inside a JSON column (NULL when absent): `"x"`, `1.0`, `true`."""
    if dialect_name(session) == "postgresql":
        node = column
        for key in keys:  # `json -> text` only walks objects, as the core's lookup does
            node = node.op("->")(cast(literal(key), Text))
        return cast(node, Text)
    path = "$" + "".join('."' + key.replace('"', '\\"') + '"' for key in keys)
    text: ColumnElement[str] = column.op("->", return_type=String)(literal(path))
    return text


def epoch_micros(session: Session, column: Any) -> ColumnElement[int]:
    """A stored timestamp as integer microseconds since 1970 (UTC), exactly."""
    if dialect_name(session) == "postgresql":
        return cast(func.extract("epoch", column) * 1_000_000, BigInteger)
    # SQLAlchemy stores 'YYYY-MM-DD HH:MM:SS.ffffff' in SQLite. SQLite's date functions work in
    # milliseconds and round (11:59:59.9997 reads as 12:00:00), so they get the whole seconds
    # only (the first 19 characters), and the fraction is added from the text, padded.
    stored = type_coerce(column, String)
    whole = func.substr(stored, 1, 19)
    seconds = (
        func.unixepoch(whole, type_=Integer)
        if sqlite3.sqlite_version_info >= (3, 38)
        else cast(func.strftime("%s", whole), Integer)
    )
    fraction = cast(func.substr(stored.concat(literal("000000", String)), 21, 6), Integer)
    return seconds * 1_000_000 + fraction


def email_tail(session: Session, column: Any) -> ColumnElement[str]:
    """What follows the first @ of an address (NULL without one): few distinct, unlike e-mails."""
    at = (
        func.strpos(column, "@")
        if dialect_name(session) == "postgresql"
        else func.instr(column, "@")
    )
    tail: ColumnElement[str] = case((at > 0, func.substr(column, at + 1, type_=String)), else_=None)
    return tail


@contextmanager
def bulk_reads(session: Session) -> Iterator[None]:
    """SQLite: memory-mapped reads while a bulk job scans its tables, then as before."""
    with _pragma(session, "mmap_size", BULK_MMAP_BYTES):
        yield


@contextmanager
def big_read_cache(session: Session) -> Iterator[None]:
    """SQLite: a page cache for one big read, then as before: pages it looks up again and
    again stay in it, and its sort (whose memory SQLite sizes from the cache) runs in one
    piece instead of spilled runs merged. With the default 2 MB, a read returning tens of
    thousands of sorted rows spilled and re-read its pages from the operating system."""
    with _pragma(session, "cache_size", -BIG_READ_CACHE_KIB):
        yield


@contextmanager
def bulk_writes(session: Session) -> Iterator[None]:
    """SQLite: a big page cache while a bulk job writes, then as before.

    The default 2 MB cache makes a million updates of indexed columns thrash and spill;
    while scanning, on the other hand, a big cache only costs time.
    """
    with _pragma(session, "cache_size", -BULK_CACHE_KIB):
        yield


@contextmanager
def _pragma(session: Session, name: str, value: int) -> Iterator[None]:
    if dialect_name(session) != "sqlite":
        yield
        return
    connection = session.connection()
    saved = connection.exec_driver_sql(f"PRAGMA {name}").scalar()
    connection.exec_driver_sql(f"PRAGMA {name} = {int(value)}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA {name} = {int(saved or 0)}")


def by_ids(session: Session, query: Any, column: Any, ids: Iterable[int] | None) -> Iterator[Any]:
    """The query as it is (all ids), or once per chunk of ids (bounded parameter lists), the
    indexes on `column` set aside by a bulk job rebuilt first (`_rebuild.once`)."""
    if ids is None:
        yield query
    else:
        settle_for(session, column)
        for batch in chunked(sorted(set(ids))):
            yield query.where(column.in_(batch))


def fetch(session: Session, query: Any, *, binary: bool = False) -> Iterator[list[tuple[Any, ...]]]:
    """The rows of a Core select, in chunks, as the driver's plain tuples.

    SQLAlchemy's result rows cost more than the reading itself at ten million rows, so the
    compiled statement runs on the DBAPI cursor of the session's own connection (and so in
    its transaction). `binary`: PostgreSQL sends the values in its binary format, which the
    driver turns into numbers without parsing text (speed to lead's 150,000 hand-offs: half
    the time); for reads of numbers only (a JSON or text value's loader may differ).
    """
    connection = session.connection()
    compiled = query.compile(
        dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
    )
    params = compiled.params
    args = tuple(params[n] for n in compiled.positiontup) if compiled.positional else params
    dbapi = connection.connection
    named = connection.dialect.name == "postgresql"  # a server-side cursor streams
    cursor = dbapi.cursor(name="leadflow_rescore", binary=binary) if named else dbapi.cursor()
    try:
        cursor.execute(compiled.string, args)
        while rows := cursor.fetchmany(FETCH):
            yield list(rows)
    finally:
        cursor.close()


def columns_of(names: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> Columns:
    """Rows turned into one list per name."""
    return {name: list(map(itemgetter(i), rows)) for i, name in enumerate(names)}


def read_columns(
    session: Session, exprs: dict[str, Any], query: Any, column: Any, ids: Any
) -> Columns:
    """All rows of `query` (selecting `exprs`) for these ids, as one list per name."""
    names = list(exprs)
    found: dict[str, list[Any]] = {name: [] for name in names}
    for part in by_ids(session, query, column, ids):
        for rows in fetch(session, part):
            for name, values in columns_of(names, rows).items():
                found[name].extend(values)
    return dict(found)


def select_labeled(exprs: dict[str, Any]) -> Any:
    """A SELECT of the expressions, in order (labels c0, c1, ...)."""
    return select(*(v.label(f"c{i}") for i, v in enumerate(exprs.values())))


def driver_value(session: Session, column: InstrumentedAttribute[Any], value: Any) -> Any:
    """A value as the column's type hands it to the driver (e.g. a UTC timestamp's text)."""
    dialect = session.get_bind().dialect
    processor = column.type.dialect_impl(dialect).bind_processor(dialect)
    return processor(value) if processor else value


@dataclass(frozen=True, slots=True)
class Same:
    """One value for every row of an executemany."""

    value: Any


def executemany(session: Session, statement: Any, columns: dict[str, Any]) -> None:
    """Run a Core statement once per row at driver level, its parameters given as columns.

    Values go to the driver as they are: callers pass driver-ready values (`driver_value`),
    JSON as text. Skipping SQLAlchemy's per-row parameter processing is what makes a million
    rows affordable. The rows are made from the columns a chunk at a time: never a list of a
    million tuples, which costs memory and sets the garbage collector off again and again
    over tuples that all live on. Each chunk still goes through SQLAlchemy, whose error
    handling (and the engine's `handle_error`) a driver error must meet.
    """
    connection = session.connection()
    sql, rows = _driver_rows(connection, statement, columns)
    while chunk := list(islice(rows, CHUNK)):
        connection.exec_driver_sql(sql, chunk)


def executemany_each(session: Session, statement: Any, columns: dict[str, Any]) -> list[bool]:
    """`executemany` of an UPDATE or DELETE whose condition a row may no longer meet, telling
    for each row whether it changed one: a statement per row on the driver's cursor (about
    as cheap as the driver's own executemany, which gives only the sum), a driver error
    raised through SQLAlchemy's own handling, as `executemany` raises it. SQLAlchemy's
    cursor events see one executemany (without its parameters), as they would."""
    connection = session.connection()
    sql, rows = _driver_rows(connection, statement, columns)
    cursor = connection.connection.cursor()
    row: Any = None
    try:
        connection.dispatch.before_cursor_execute(connection, cursor, sql, (), None, True)
        written = [cursor.execute(sql, row).rowcount > 0 for row in rows]
        connection.dispatch.after_cursor_execute(connection, cursor, sql, (), None, True)
        return written
    except Exception as error:
        connection._handle_dbapi_exception(error, sql, row, cursor, None)
        raise  # not reached: the handling raises
    finally:
        cursor.close()


def _driver_rows(
    connection: Any, statement: Any, columns: dict[str, Any]
) -> tuple[str, Iterator[Any]]:
    """A Core statement's SQL for this connection, and its parameters row by row, made from
    the columns as they are consumed (in the order the driver takes them)."""
    compiled = statement.compile(dialect=connection.dialect)
    names = list(compiled.positiontup) if compiled.positional else list(columns)
    sizes = {len(v) for v in columns.values() if not isinstance(v, Same)}
    count = sizes.pop() if sizes else 0
    values = [repeat(v.value, count) if isinstance(v, Same) else v for v in map(columns.get, names)]
    rows: Iterator[Any] = zip(*values, strict=False)
    if not compiled.positional:
        rows = (dict(zip(names, row, strict=True)) for row in rows)
    return compiled.string, rows


@contextmanager
def temporary_table(
    session: Session, name: str, columns: Sequence[Column[Any]], rows: dict[str, Any]
) -> Iterator[Table]:
    """A TEMPORARY table holding these column-wise rows for one statement of the caller's,
    dropped afterwards: a million values go in through the driver (COPY on PostgreSQL),
    then SQL joins them."""
    if dialect_name(session) == "postgresql":
        shared = {k: repeat(v.value) if isinstance(v, Same) else v for k, v in rows.items()}
        with staged(session, columns, shared) as stage:
            yield stage
        return
    connection = session.connection()
    table = Table(name, MetaData(), *columns, prefixes=["TEMPORARY"])
    table.create(connection)
    try:
        executemany(session, table.insert(), dict(rows))
        yield table
    finally:
        table.drop(connection)
