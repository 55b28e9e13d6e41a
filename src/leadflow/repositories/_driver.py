"""Bulk reads and writes at driver level, with the columns' own type processing.

SQLAlchemy builds and processes parameters and result rows one by one through its compiler
and result machinery; at a hundred thousand rows that costs several times the database work.
Here each column's processor (JSON text, UTC timestamps) and Python-side default is applied
column by column, and the compiled statement runs on the driver with every row at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from sqlalchemy import Column, Table, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from leadflow.repositories._copy import SEQ, copy_into, like, staged, use_copy
from leadflow.repositories._rebuild import rewriting

ROW_ID = "_row_id"
Key = str | Sequence[str]  # a unique column, or the columns of a unique key


def same_keys(rows: Sequence[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """Rows grouped by their set of keys: one executemany needs one shape."""
    groups: dict[frozenset[str], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(frozenset(row), []).append(row)
    yield from groups.values()


class _RowContext:
    """What a default that reads its row (`context.get_current_parameters()`, e.g. a lead's
    score band from its total) is given here: the row's own values."""

    def __init__(self, row: dict[str, Any]) -> None:
        self._row = row

    def get_current_parameters(self) -> dict[str, Any]:
        return self._row


def _default_values(column: Column[Any], rows: Sequence[dict[str, Any]]) -> list[Any]:
    default, count = column.default, len(rows)
    if default is None or not hasattr(default, "arg"):
        return [None] * count
    if callable(default.arg):  # SQLAlchemy wraps it to take an execution context
        if hasattr(default.arg, "__wrapped__"):
            # It takes none (`dict`, `list`, `utcnow`): one value for the batch, so its
            # driver form (JSON text, the time's text) is computed once (`_processed`).
            return [default.arg(None)] * count
        return [default.arg(_RowContext(row)) for row in rows]
    return [default.arg] * count


def _processed(session: Session, column: Column[Any], values: list[Any]) -> list[Any]:
    dialect = session.get_bind().dialect
    processor = column.type.dialect_impl(dialect).bind_processor(dialect)
    if processor is None or not values:
        return values
    first = values[0]
    if all(v is first for v in values):  # e.g. one `now` for every row: convert it once
        return [processor(first)] * len(values)
    return [processor(v) for v in values]


def select_columns(session: Session, query: Any) -> dict[str, list[Any]]:
    """The rows of a Core select as columns keyed by column label, values typed as usual."""
    connection = session.connection()
    dialect = connection.dialect
    compiled = query.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.params
    args = tuple(params[n] for n in compiled.positiontup) if compiled.positional else params
    names = [column.key for column in query.selected_columns]
    cursor = connection.exec_driver_sql(compiled.string, args).cursor
    rows = cursor.fetchall()
    processors = [  # PostgreSQL's processors depend on the type code the server sent
        column.type.dialect_impl(dialect).result_processor(dialect, described[1])
        for column, described in zip(query.selected_columns, cursor.description, strict=True)
    ]
    columns = (
        [
            [p(v) for v in values] if p else list(values)
            for p, values in zip(processors, zip(*rows, strict=True), strict=True)
        ]
        if rows
        else [[] for _ in names]
    )
    return dict(zip(names, columns, strict=True))


def select_dicts(session: Session, query: Any) -> list[dict[str, Any]]:
    """The rows of a Core select as dicts keyed by column label, values typed as usual."""
    columns = select_columns(session, query)
    names = list(columns)
    return [dict(zip(names, row, strict=True)) for row in zip(*columns.values(), strict=True)]


def _run(session: Session, statement: Any, names: list[str], columns: list[list[Any]]) -> int:
    connection = session.connection()
    compiled = statement.compile(dialect=connection.dialect, column_keys=names)
    by_name = dict(zip(names, columns, strict=True))
    order = list(compiled.positiontup) if compiled.positional else names
    rows: list[Any] = list(zip(*(by_name[n] for n in order), strict=True))
    if not compiled.positional:
        rows = [dict(zip(order, row, strict=True)) for row in rows]
    return int(connection.exec_driver_sql(compiled.string, rows).rowcount)


def insert_rows(
    session: Session, table: Table, rows: Sequence[dict[str, Any]], *, unless: Key | None = None
) -> int:
    """INSERT every row; columns a row leaves out get their Python-side default. With `unless`
    (a unique column, or the columns of a unique key) a row whose key is already stored, or
    came earlier in `rows`, is skipped (ON CONFLICT DO NOTHING,
    which waits for a concurrent writer of the same key instead of failing). How many were
    inserted."""
    inserted = 0
    for group in same_keys(rows):
        given = list(group[0])
        defaulted = [c for c in table.columns if c.key not in given and c.default is not None]
        names = [*given, *(c.key for c in defaulted)]
        columns = [_processed(session, table.c[k], [row[k] for row in group]) for k in given]
        columns += [_processed(session, c, _default_values(c, group)) for c in defaulted]
        if use_copy(session, len(group)):
            inserted += _copy_rows(session, table, unless, dict(zip(names, columns, strict=True)))
            continue
        with rewriting(session, table, len(group), None):
            inserted += _run(session, _insert(session, table, unless), names, columns)
    return inserted


def _copy_rows(session: Session, table: Table, unless: Key | None, rows: dict[str, Any]) -> int:
    """PostgreSQL, many rows: COPY them in; with `unless`, staged first and inserted in their
    order (ids as an executemany gives them) skipping stored keys, as `_insert` does."""
    if unless is None:
        copy_into(session, table, rows)
        return len(next(iter(rows.values())))
    with staged(session, like(table, list(rows)), rows, ordered=True) as stage:
        source = select(*(stage.c[name] for name in rows)).order_by(stage.c[SEQ])
        statement = _insert(session, table, unless).from_select(list(rows), source)
        # SQLAlchemy keeps an INSERT's row count only when asked (else -1)
        done = session.connection().execute(statement.execution_options(preserve_rowcount=True))
        return int(done.rowcount)


def _insert(session: Session, table: Table, unless: Key | None) -> Any:
    if unless is None:
        return insert(table)
    module = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    key = [unless] if isinstance(unless, str) else list(unless)
    return module.insert(table).on_conflict_do_nothing(index_elements=key)


def update_by_id(
    session: Session,
    table: Table,
    rows: Sequence[dict[str, Any]],
    computed: dict[str, Callable[[Any], Any]] | None = None,
) -> None:
    """UPDATE each row's other columns WHERE id = its id (a later row for an id wins).
    `computed`: columns set from an expression of the row's value (the parameter given),
    e.g. `{"reached_rank": lambda given: func.max(table.c.reached_rank, given)}`; rows with
    one always take the per-row executemany (PostgreSQL's staging table holds plain values
    only)."""
    computed = computed or {}
    for group in same_keys(rows):
        names = sorted(set(group[0]) - {"id"})
        if use_copy(session, len(group)) and not computed:
            _update_staged(session, table, names, group)
            continue
        values = {name: computed.get(name, _same)(bindparam(name)) for name in names}
        statement = update(table).where(table.c.id == bindparam(ROW_ID)).values(values)
        columns = [_processed(session, table.c[n], [row[n] for row in group]) for n in names]
        ids = [row["id"] for row in group]
        with rewriting(session, table, len(group), names):
            _run(session, statement, [*names, ROW_ID], [*columns, ids])


def _same(given: Any) -> Any:
    return given


def _update_staged(
    session: Session, table: Table, names: list[str], group: Sequence[dict[str, Any]]
) -> None:
    """PostgreSQL, many rows: COPY them into a staging table, then one UPDATE ... FROM it."""
    last = list({row["id"]: row for row in group}.values())  # one row per id, as run in order
    rows = {"id": [row["id"] for row in last]}
    rows |= {n: _processed(session, table.c[n], [row[n] for row in last]) for n in names}
    with staged(session, like(table, ["id", *names]), rows) as stage:
        statement = (
            update(table)
            .where(table.c.id == stage.c.id)
            .values({name: stage.c[name] for name in names})
        )
        session.connection().execute(statement)
