"""Helpers shared by the repositories: dialect inserts, chunking, merge-upserts."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.dml import ReturningInsert

from leadflow.models.db import Base
from leadflow.repositories._driver import insert_rows, select_dicts, update_by_id

T = TypeVar("T")
# Far below SQLite's 32,766 and PostgreSQL's 65,535 bound parameters per statement.
CHUNK = 5000
NEVER_UPDATED = frozenset({"id", "created_at"})
# How a writer holds a lead or account row it is about to change (PostgreSQL; SQLite has
# one writer anyway): FOR NO KEY UPDATE, the lock an UPDATE of non-key columns takes itself.
# Not FOR UPDATE: that one also waits for FOR KEY SHARE, which every INSERT of a row that
# references the lead or account (an event, a rule state) takes on it for its foreign key.
# Two transactions that each inserted an event for lead L, then asked for L FOR UPDATE,
# waited on each other's key-share lock: a deadlock for every overlapping pair of batches,
# ended by the lock timeout as a 503. Writers of one row still take turns.
ROW_LOCK: dict[str, Any] = {"key_share": True}

Insert = postgresql.Insert | sqlite.Insert


def dialect_insert(session: Session, target: type[Base] | Table) -> Insert:
    """An INSERT that knows ON CONFLICT (PostgreSQL and SQLite 3.24+ both speak it).

    Given a Table rather than a model, the statement runs as plain Core: faster for bulk rows,
    but every row must carry the same keys.
    """
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(target)
    return sqlite.insert(target)


_NEW_ONLY: dict[tuple[str, str, tuple[str, ...], tuple[str, ...]], ReturningInsert[Any]] = {}


def insert_new_only(
    session: Session, model: type[Base], unique: Sequence[str], returning: Sequence[str]
) -> ReturningInsert[Any]:
    """INSERT ... ON CONFLICT (unique) DO NOTHING RETURNING `returning`, as plain Core on the
    model's table, built once per engine kind: the per-event paths (a new event, person,
    account or visitor link) run these, and building a statement costs more than running it.
    A row that conflicts returns nothing."""
    key = (session.get_bind().dialect.name, model.__tablename__, tuple(unique), tuple(returning))
    found = _NEW_ONLY.get(key)
    if found is None:
        table = table_of(model)
        found = _NEW_ONLY[key] = (
            dialect_insert(session, table)
            .on_conflict_do_nothing(index_elements=list(unique))
            .returning(*(table.c[c] for c in returning))
        )
    return found


def table_of(model: type[Base]) -> Table:
    """The model's Table, for plain Core statements."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


def chunked(items: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    """Consecutive lists of at most `size` items."""
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def normalize_key(value: Any) -> str | None:
    """E-mails and domains compare lowercased and trimmed."""
    return value.strip().lower() or None if isinstance(value, str) else None


def _merge(old: dict[str, Any], new: dict[str, Any], fill_only: bool) -> dict[str, Any]:
    merged: dict[str, Any] = {"id": old["id"]}
    for column, value in new.items():
        if column in NEVER_UPDATED:
            continue
        current = old[column]
        if isinstance(value, dict) and isinstance(current, dict):
            merged[column] = {**value, **current} if fill_only else {**current, **value}
        elif fill_only:
            merged[column] = value if current is None else current
        else:
            merged[column] = current if value is None else value
    return merged


def upsert_by_key(
    session: Session,
    model: type[Base],
    key: InstrumentedAttribute[Any],
    rows: Sequence[dict[str, Any]],
    *,
    fill_only: bool,
) -> int:
    """Insert rows whose key is new, merge the others into the stored row; count both.

    Merging never erases: a None keeps the stored value and dicts (attributes) are merged key by
    key. With `fill_only` stored values win and only empty columns are filled. Rows are merged in
    Python rather than with ON CONFLICT DO UPDATE because JSON has no portable merge in SQL.

    Safe beside concurrent writers of the same keys (several server processes on PostgreSQL):
    rows to merge are read FOR UPDATE, and new rows are inserted ON CONFLICT DO NOTHING; a key
    another transaction stored in between is then merged like any stored one. Keys are taken
    in sorted order so two writers never wait for each other crosswise.
    """
    by_key: dict[str, dict[str, Any]] = {}
    keyless: list[dict[str, Any]] = []
    for row in rows:
        value = normalize_key(row.get(key.key))
        if value is None:
            keyless.append({**row, key.key: None})
        else:
            by_key.setdefault(value, {}).update({**row, key.key: value})
    by_key = dict(sorted(by_key.items()))
    table = table_of(model)
    counted = len(by_key) + len(keyless)
    _merge_stored(session, table, key, by_key, fill_only)
    new = list(by_key.values())
    if insert_rows(session, table, new, unless=key.key) < len(new):
        # Another transaction stored some of these keys since we looked: merge into its rows.
        # (Merging a row into the copy of itself this transaction just inserted changes nothing.)
        _merge_stored(session, table, key, by_key, fill_only)
    insert_rows(session, table, keyless)
    return counted


def _merge_stored(
    session: Session,
    table: Table,
    key: InstrumentedAttribute[Any],
    by_key: dict[str, dict[str, Any]],
    fill_only: bool,
) -> None:
    """Merge the rows whose key is stored into them, and drop those from `by_key`."""
    columns = sorted({c for row in by_key.values() for c in row} - NEVER_UPDATED)
    query = select(table.c.id, *(table.c[c] for c in columns)).order_by(table.c[key.key])
    changing: dict[str, dict[str, Any]] = {}
    for batch in chunked(list(by_key)):
        for stored in select_dicts(session, query.where(table.c[key.key].in_(batch))):
            new = by_key.pop(stored[key.key])
            merged = _merge(dict(stored), new, fill_only)
            if any(merged[c] != stored[c] for c in merged):
                changing[stored[key.key]] = new
    # Only rows that will change are locked, then merged as they are once the lock is held (a
    # concurrent writer's merge is kept, not overwritten); unchanged rows cost no lock.
    updates: list[dict[str, Any]] = []
    for batch in chunked(list(changing)):
        locked = query.where(table.c[key.key].in_(batch)).with_for_update(**ROW_LOCK)
        for stored in select_dicts(session, locked):
            updates.append(_merge(dict(stored), changing[stored[key.key]], fill_only))
    update_by_id(session, table, updates)
