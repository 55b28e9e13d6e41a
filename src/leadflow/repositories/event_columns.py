"""Every attributed event as integer columns (lead, time, kind), with no Python row per event.

SQLite: child processes read the covering index `ix_events_scoring` into Arrow through the
ADBC SQLite driver (`_sqlite_arrow`); as other connections they see what the session sees
only when the session's transaction has written nothing, so they are used only then.
PostgreSQL: a binary COPY on the session's own connection, parsed by NumPy. Otherwise (an
in-memory SQLite database, a transaction that has written, events stored by raw SQL without
their kind, a child that failed): None, and the caller reads rows. pyarrow is imported only
on first use.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Text, cast, select
from sqlalchemy.orm import Session

from leadflow.models.event import Event
from leadflow.repositories import _arrow
from leadflow.repositories._arrow import Reading
from leadflow.repositories._bulk import dialect_name, fetch, json_text
from leadflow.repositories._sql import chunked

IntArray = npt.NDArray[np.int64]
PARTS = 2  # child processes reading events at once (at most one per core)
# NULL time or kind (raw SQL inserts) reads as kind -1: the caller then reads rows instead.
_COLUMNS = (
    "CAST(lead_id AS BIGINT), COALESCE(occurred_us, 0),"
    " CASE WHEN occurred_us IS NULL THEN -1 ELSE COALESCE(kind, -1) END, CAST(id AS BIGINT)"
)
_QUERY = f"SELECT {_COLUMNS} FROM events WHERE lead_id IS NOT NULL"
_COPY_ROW = np.dtype(
    [("fields", ">i2")]
    + [(f"{name}{part}", t) for name in "ltki" for part, t in (("_len", ">i4"), ("", ">i8"))]
)
_COPY_HEADER = 19  # signature (11), flags (4), header extension length (4, zero)


@dataclass(frozen=True, slots=True)
class EventKinds:
    """Events by row: `lead_id`, `occurred_us`, `kind` (index into `samples`); and for each
    kind one event's (type, name, JSON text at properties.path)."""

    lead_id: IntArray
    occurred_us: IntArray
    kind: IntArray
    samples: list[tuple[str, str | None, str | None]]


@contextmanager
def reading_ahead(session: Session) -> Iterator[Reading | None]:
    """Start the children reading every event now, so they read while the caller does other
    work (a re-score reads its leads meanwhile); None where children would not read (see
    above). Children not finished by `read_event_kinds` are stopped on the way out."""
    started = _start(session)
    try:
        yield started
    finally:
        if started is not None:
            started.abandon()


def read_event_kinds(session: Session, started: Reading | None = None) -> EventKinds | None:
    """All attributed events as columns, or None where they cannot be read so (see above);
    `started`: from `reading_ahead` in this transaction, nothing written since."""
    if dialect_name(session) == "postgresql":
        lead, occurred, kind, ids = _copy_binary(session)
    else:
        found = _adbc_sqlite(session, started)
        if found is None:
            return None
        lead, occurred, kind, ids = found
    if len(kind) and int(kind.min()) < 0:
        return None
    codes, distinct = _dictionary(kind)
    sample = np.zeros(distinct, np.int64)
    sample[codes] = ids  # any event of each kind will do: they all read alike
    samples = _samples(session, sample.tolist())
    if samples is None:  # deleted since it was read
        return None
    return EventKinds(lead, occurred, codes, samples)


def _dictionary(kind: IntArray) -> tuple[IntArray, int]:
    """Each row's index among the distinct kinds, and how many there are (hashing, no sort)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    encoded = pc.dictionary_encode(pa.array(kind))
    codes = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), np.int64)
    return codes, len(encoded.dictionary)


def _samples(
    session: Session, event_ids: Sequence[int]
) -> list[tuple[str, str | None, str | None]] | None:
    """(type, name, JSON text at properties.path) of these events, in the order given (None
    when one is gone)."""
    path = json_text(session, Event.properties, ["path"])
    found: dict[int, tuple[str, str | None, str | None]] = {}
    for batch in chunked(sorted(set(event_ids))):
        query = select(Event.id, Event.type, Event.name, cast(path, Text)).where(
            Event.id.in_(batch)
        )
        for rows in fetch(session, query):
            found.update({row[0]: (row[1], row[2], row[3]) for row in rows})
    if len(found) < len(set(event_ids)):
        return None
    return [found[i] for i in event_ids]


def _start(session: Session) -> Reading | None:
    """Children reading the events, when a second connection sees what the session sees;
    one per core, each a range of leads."""
    database = _arrow.readable_path(session)
    if database is None:
        return None
    low, high = session.connection().exec_driver_sql("SELECT MIN(id), MAX(id) FROM leads").one()
    if low is None:
        return Reading(database, [])
    parts = max(1, min(PARTS, os.cpu_count() or 1))
    step = (high - low) // parts + 1
    bounds = [low + k * step for k in range(1, parts)]  # the first and last are open
    ranges = zip([None, *bounds], [*bounds, None], strict=True)
    queries = [
        _QUERY
        + ("" if start is None else f" AND lead_id >= {start}")
        + ("" if end is None else f" AND lead_id < {end}")
        for start, end in ranges
    ]
    return Reading(database, queries)


def _adbc_sqlite(session: Session, started: Reading | None) -> tuple[IntArray, ...] | None:
    """The columns through ADBC, read by child processes (`_arrow`), when a second connection
    sees what the session sees (and no child failed)."""
    if started is None:
        started = _start(session)
    if started is None:
        return None
    tables = started.tables()
    if tables is None:
        return None
    if not tables:  # no lead
        return tuple(np.zeros(0, np.int64) for _ in range(4))
    return tuple(
        np.concatenate([np.asarray(t.column(k).to_numpy(), np.int64) for t in tables])
        for k in range(4)
    )


def _copy_binary(session: Session) -> tuple[IntArray, ...]:
    """The columns through COPY ... TO STDOUT (FORMAT BINARY): fixed-width rows for NumPy."""
    raw: Any = session.connection().connection.dbapi_connection
    data = bytearray()
    with raw.cursor() as cursor, cursor.copy(f"COPY ({_QUERY}) TO STDOUT (FORMAT BINARY)") as copy:
        for chunk in copy:
            data += chunk
    body = memoryview(data)[_COPY_HEADER : len(data) - 2]  # the trailer is one int16, -1
    rows = np.frombuffer(body, _COPY_ROW)
    if len(rows) and not (rows["fields"] == 4).all():
        raise ValueError("unexpected COPY row layout")
    return tuple(rows[name].astype(np.int64) for name in "ltki")
