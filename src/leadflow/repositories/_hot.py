"""Statements of the per-event path, run on the driver's own cursor.

A tracking call runs a handful of small statements (the live snapshot, the visitor's lead,
the event's INSERT). SQLAlchemy's execution of each (its compiled-cache lookup, parameter
processing, result wrapping, execution context) cost 30 times what SQLite took to run it:
146 us against 4.5 us for the visitor lookup, measured in one process. Here such a statement
is written as a Core statement (the SQL stays SQLAlchemy's, for both engines), compiled once
per database kind, and run on the DBAPI cursor of the session's connection, inside the
session's transaction, with each parameter's bind processor (JSON text, UTC times) applied.
A driver error is raised as SQLAlchemy raises it, through the connection's own handling, so
callers see the same exceptions (`OperationalError` for a busy database, ...) and a
connection that must be dropped is dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class Hot:
    """A statement compiled for one database kind: its SQL and how to pass its parameters."""

    sql: str
    names: tuple[str, ...]  # the parameters, in the order a positional driver takes them
    processors: tuple[Processor, ...]
    positional: bool
    given: Mapping[str, Any]  # values the statement holds itself (a LIMIT, a literal)

    def arguments(self, params: Mapping[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        given = self.given
        values = [
            value if process is None or value is None else process(value)
            for value, process in zip(
                (params[n] if n in params else given[n] for n in self.names),
                self.processors,
                strict=True,
            )
        ]
        if self.positional:
            return tuple(values)
        return dict(zip(self.names, values, strict=True))


_COMPILED: dict[tuple[str, Hashable], Hot] = {}


def _cached(dialect: Dialect, key: Hashable, make: Callable[[], Hot]) -> Hot:
    """The statement compiled under `key` for this kind of database, made once."""
    found = _COMPILED.get((dialect.name, key))
    if found is None:
        found = _COMPILED[(dialect.name, key)] = make()
    return found


def _compile(dialect: Dialect, statement: ClauseElement) -> Hot:
    done = cast(SQLCompiler, statement.compile(dialect=dialect))
    defaulted = [column.key for column in done.insert_prefetch]
    if defaulted:  # SQLAlchemy computes those per execution: the driver would get none
        raise ValueError(f"bind every column: {', '.join(defaulted)} left to defaults")
    if done.positional:  # in the SQL's order, a parameter used twice named twice
        binds = [(name, done.binds[name]) for name in done.positiontup or ()]
    else:  # named: as rendered in the SQL (anonymous parameters get a name there)
        binds = [(name, bind) for bind, name in done.bind_names.items()]
    processors = tuple(bind.type.dialect_impl(dialect).bind_processor(dialect) for _, bind in binds)
    given = {name: value for name, value in done.params.items() if value is not None}
    return Hot(done.string, tuple(n for n, _ in binds), processors, done.positional, given)


def run(
    session: Session, key: Hashable, build: Callable[[], ClauseElement], params: Mapping[str, Any]
) -> list[Sequence[Any]]:
    """Run the statement `build` gives (compiled once for this kind of database under `key`)
    on the session's connection (its transaction); the rows it returns, as the driver gives
    them (no result processing: for integer and text columns)."""
    connection = session.connection()
    hot = _cached(connection.dialect, key, lambda: _compile(connection.dialect, build()))
    return _fetch(connection, hot, hot.arguments(params))


def run_listed(
    session: Session,
    key: Hashable,
    statement: ClauseElement,
    values: Sequence[Any],
    params: Mapping[str, Any] | None = None,
    *,
    name: str = "ids",
) -> list[Sequence[Any]]:
    """Run a statement whose expanding parameter `name` takes `values` (an IN list), in lists
    of a few sizes (`in_lists`, each size compiled once); the rows of every run."""
    connection = session.connection()
    dialect = connection.dialect
    rows: list[Sequence[Any]] = []
    for listed in in_lists(values):
        size = len(listed)
        hot = _cached(dialect, (key, size), partial(_expanded, dialect, statement, name, size))
        given = {f"{name}_{i + 1}": value for i, value in enumerate(listed)}
        rows += _fetch(connection, hot, hot.arguments({**(params or {}), **given}))
    return rows


def run_rows(
    session: Session,
    key: Hashable,
    build: Callable[[Sequence[str], int], ClauseElement],
    rows: Sequence[Mapping[str, Any]],
) -> list[Sequence[Any]]:
    """Run a multi-row statement over `rows` (every row the same keys) in pieces of a few
    sizes (`pieces`, each size compiled once); `build(names, size)` gives it for `size` rows
    of these columns, bound as `row_values` binds them. The rows every piece returns."""
    names = tuple(rows[0]) if rows else ()
    returned: list[Sequence[Any]] = []
    for start, size in pieces(len(rows)):
        params = {f"{n}_{i}": row[n] for i, row in enumerate(rows[start : start + size])
                  for n in names}  # fmt: skip
        returned += run(session, (key, names, size), partial(build, names, size), params)
    return returned


def row_values(table: Table, names: Sequence[str], size: int) -> list[dict[str, Any]]:
    """The VALUES of `size` rows of these columns for `run_rows`: parameters `column_i`,
    typed as the table's columns (their bind processors apply)."""
    return [{n: bindparam(f"{n}_{i}", type_=table.c[n].type) for n in names} for i in range(size)]


def _expanded(dialect: Dialect, statement: ClauseElement, name: str, size: int) -> Hot:
    done = cast(SQLCompiler, statement.compile(dialect=dialect))
    state = done.construct_expanded_state({name: [None] * size})
    listed = {f"{name}_{i + 1}" for i in range(size)}
    rendered = {shown: bind for bind, shown in done.bind_names.items()}
    names = tuple(state.positiontup or ()) if done.positional else tuple(state.parameters)
    processors = tuple(
        rendered[name if shown in listed else shown]
        .type.dialect_impl(dialect)
        .bind_processor(dialect)
        for shown in names
    )
    given = {n: v for n, v in state.parameters.items() if n not in listed and v is not None}
    return Hot(state.statement, names, processors, done.positional, given)


def _fetch(connection: Connection, hot: Hot, arguments: Any) -> list[Sequence[Any]]:
    cursor = connection.connection.cursor()
    try:
        cursor.execute(hot.sql, arguments)
        return list(cursor.fetchall()) if cursor.description is not None else []
    except Exception as error:
        # SQLAlchemy's own path for a failed statement: handle_error hooks, invalidation of
        # a dead connection, and the DBAPI error wrapped in SQLAlchemy's exception classes.
        connection._handle_dbapi_exception(error, hot.sql, arguments, cursor, None)
    finally:
        cursor.close()


IN_SIZES = (1, 2, 4, 8, 16, 32, 64)  # an IN list's lengths: a few compiled forms per statement


def in_lists(values: Sequence[Any]) -> list[list[Any]]:
    """`values` as IN lists of the sizes above, in order, each list's last value repeated to
    its size (a value twice in an IN list matches as once)."""
    lists = []
    top = IN_SIZES[-1]
    for start in range(0, len(values), top):
        part = list(values[start : start + top])
        size = next(s for s in IN_SIZES if s >= len(part))
        lists.append(part + part[-1:] * (size - len(part)))
    return lists


def pieces(count: int) -> list[tuple[int, int]]:
    """`count` rows as consecutive (start, size) pieces of the sizes above, largest first:
    a multi-row statement compiled for a few sizes serves any number of rows."""
    found = []
    start = 0
    while start < count:
        size = max(s for s in IN_SIZES if s <= count - start)
        found.append((start, size))
        start += size
    return found
