"""The decay refresh's bulk reads and write: rule states and lead scores as NumPy columns, and
the leads whose shown score moved written back with one UPDATE ... FROM a temporary table.

Reads go as `event_columns` reads events: on SQLite child processes read through ADBC into
Arrow (only while the session's transaction has written nothing, or they would not see what
it sees), on PostgreSQL a binary COPY on the session's own connection. Otherwise (an in-memory
database, a transaction that has written) the rows come through the driver: slower, the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from operator import itemgetter
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
from sqlalchemy import (
    BigInteger,
    Column,
    bindparam,
    cast,
    func,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from leadflow.models.lead import Lead
from leadflow.models.rule_state import RuleState
from leadflow.repositories import _arrow, rescoring
from leadflow.repositories._bulk import (
    dialect_name,
    epoch_micros,
    executemany,
    table_of,
    temporary_table,
)
from leadflow.repositories._copy import use_copy

IN_LIST = 10_000  # ids written into one statement
FEW = 200_000  # leads read through the driver; more are read as columns (every row, then kept)
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
NO_TIME = -(2**63)  # a window not yet full; a lead never scored
# (name, is a float): the columns read, in order.
STATE_COLUMNS = (
    ("lead", False),
    ("rule", False),
    ("current", False),
    ("count", False),
    ("band", False),
    ("anchored", True),
    ("window_from", False),
)
SCORE_COLUMNS = (
    ("id", False),
    ("fit", True),
    ("engagement", True),
    ("total", True),
    ("scored_us", False),
    ("due", False),  # `Lead.decay_due`, NO_TIME when NULL
)
Columns = dict[str, npt.NDArray[Any]]


def _quoted(session: Session, text: str) -> str:
    """A string literal for a query that takes no parameters (ADBC child, COPY)."""
    if dialect_name(session) == "postgresql":
        from psycopg import sql

        raw: Any = session.connection().connection.dbapi_connection
        return str(sql.Literal(text).as_string(raw))
    if "\x00" in text:
        raise ValueError("a rule id holds a NUL character")
    return "'" + text.replace("'", "''") + "'"


def _state_query(session: Session, rule_ids: Sequence[str], key: str) -> str:
    whens = " ".join(f"WHEN {_quoted(session, r)} THEN {k}" for k, r in enumerate(rule_ids))
    return (
        "SELECT CAST(lead_id AS BIGINT),"
        f" CAST(CASE rule_id {whens} ELSE -1 END AS BIGINT),"
        f" CAST(CASE WHEN rule_key = {_quoted(session, key)} THEN 1 ELSE 0 END AS BIGINT),"
        " CAST(count AS BIGINT), CAST(COALESCE(band, 0) AS BIGINT),"
        " CAST(COALESCE(anchored, 0.0) AS DOUBLE PRECISION),"
        f" CAST(COALESCE(window_from, {NO_TIME}) AS BIGINT) FROM rule_states"
    )


def _scored_us(session: Session) -> Any:
    """A lead's scored_at in epoch microseconds, NO_TIME when never scored: the same
    expression for the bulk read and the write's check that a lead was not scored since."""
    micros = epoch_micros(session, table_of(Lead).c.scored_at)
    return cast(func.coalesce(micros, NO_TIME), BigInteger)


def _score_query(session: Session, *also: str) -> str:
    """The stored scores' columns (`SCORE_COLUMNS`), then any columns `also` names."""
    compiled = _scored_us(session).compile(
        dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True}
    )
    return (
        "SELECT CAST(id AS BIGINT), CAST(COALESCE(fit, 0.0) AS DOUBLE PRECISION),"
        " CAST(COALESCE(engagement, 0.0) AS DOUBLE PRECISION),"
        " CAST(COALESCE(total, 0.0) AS DOUBLE PRECISION),"
        f" {', '.join([str(compiled), f'CAST(COALESCE(decay_due, {NO_TIME}) AS BIGINT)', *also])}"
        " FROM leads"
    )


def read(
    session: Session, rule_ids: Sequence[str], key: str, lead_ids: IntArray | None = None
) -> tuple[Columns, Columns, StoredEntries | None]:
    """The stored states (lead, rule index in `rule_ids` or -1, 1 when rule_key is `key`,
    count, band or 0, anchored or 0, window_from or NO_TIME) and the stored scores (id, fit,
    engagement, total, scored_at in epoch microseconds or NO_TIME, decay_due or NO_TIME) of
    these leads (every lead when None), as columns; and, for a few leads read through the
    driver, what a write of them needs besides (`stored_entries`), from the same rows: None
    when they were read as columns."""
    queries = [_state_query(session, rule_ids, key), _score_query(session)]
    shapes = [STATE_COLUMNS, SCORE_COLUMNS]
    if lead_ids is not None and len(lead_ids) <= FEW:
        states = _some(session, queries[0], shapes[0], lead_ids, "lead_id")
        scores, entries = _scores_and_entries(session, lead_ids)
        return states, scores, entries
    states, scores = _every(session, queries, shapes)
    if lead_ids is not None:
        states = _only(states, np.isin(states["lead"], lead_ids))
        scores = _only(scores, np.isin(scores["id"], lead_ids))
    return states, scores, None


def _scores_and_entries(session: Session, lead_ids: IntArray) -> tuple[Columns, StoredEntries]:
    """The stored scores of these few leads and their entries (`stored_entries`), in one read
    of their rows (one lookup of each lead instead of two)."""
    query = _score_query(session, _ENTRY_COLUMNS)
    rows = _rows_of(session, query, "id", np.unique(lead_ids).tolist())
    rows.sort(key=itemgetter(0))
    return _as_columns(rows, SCORE_COLUMNS), _entries(rows, len(SCORE_COLUMNS) - 1)


def _only(columns: Columns, keep: npt.NDArray[np.bool_]) -> Columns:
    return {name: column[keep] for name, column in columns.items()}


def _every(
    session: Session, queries: list[str], shapes: Sequence[Sequence[tuple[str, bool]]]
) -> tuple[Columns, Columns]:
    """Every row of both queries, as columns (Arrow on SQLite, binary COPY on PostgreSQL)."""
    if dialect_name(session) == "postgresql":
        found = [_copy_binary(session, q, s) for q, s in zip(queries, shapes, strict=True)]
        return found[0], found[1]
    tables = _adbc_sqlite(session, queries)
    if tables is None:
        found = [_rows(session, q, s) for q, s in zip(queries, shapes, strict=True)]
        return found[0], found[1]
    columns = [
        {
            name: np.asarray(table.column(k).to_numpy(), np.float64 if real else np.int64)
            for k, (name, real) in enumerate(shape)
        }
        for table, shape in zip(tables, shapes, strict=True)
    ]
    return columns[0], columns[1]


def _some(
    session: Session,
    query: str,
    shape: Sequence[tuple[str, bool]],
    lead_ids: IntArray,
    column: str,
) -> Columns:
    """The rows of these few leads, through the driver in the session's own transaction
    (ids are integers, written into the statement: nothing to quote)."""
    return _as_columns(_rows_of(session, query, column, np.unique(lead_ids).tolist()), shape)


def _as_columns(rows: list[tuple[Any, ...]], shape: Sequence[tuple[str, bool]]) -> Columns:
    """The first columns of these rows, named and typed as `shape` says."""
    return {
        name: np.fromiter(map(itemgetter(k), rows), np.float64 if real else np.int64, len(rows))
        for k, (name, real) in enumerate(shape)
    }


def _rows_of(
    session: Session, query: str, column: str, ids: Sequence[int]
) -> list[tuple[Any, ...]]:
    """The query's rows whose `column` is one of these ids, through the driver (the ids are
    integers, written into the statement in batches: nothing to quote)."""
    every = np.asarray(ids, np.int64).tolist()  # Python ints: their text is plain digits
    rows: list[tuple[Any, ...]] = []
    for start in range(0, len(every), IN_LIST):
        listed = ",".join(map(str, every[start : start + IN_LIST]))
        rows += _driver_rows(session, f"{query} WHERE {column} IN ({listed})")
    return rows


def _driver_rows(session: Session, query: str) -> list[tuple[Any, ...]]:
    """The rows of a query as the driver's tuples, in the session's transaction (SQLAlchemy's
    rows cost more than reading them, at a hundred thousand)."""
    raw: Any = session.connection().connection.dbapi_connection
    cursor = raw.cursor()
    try:
        cursor.execute(query)
        rows: list[tuple[Any, ...]] = cursor.fetchall()
    finally:
        cursor.close()
    return rows


def due_leads(session: Session, now_us: int) -> IntArray:
    """The leads whose engagement points may have changed by `now_us` (or not known: 0), in
    id order: one range of the `decay_due` index."""
    leads = table_of(Lead)
    query = (
        select(leads.c.id)
        .where(leads.c.decay_due <= now_us)
        .compile(dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True})
    )
    found = _driver_rows(session, str(query))
    return np.sort(np.fromiter(map(itemgetter(0), found), np.int64, len(found)))


def stateless_leads(
    session: Session, marker: str, key: str, now: datetime | None = None
) -> IntArray:
    """The leads with no state for the rules fingerprinted `key` whose stored score may move:
    with engagement, or scored as of another moment than the present (`rescore --at`: before
    their latest event, or after `now`): to be re-scored from their events."""
    lead, states = table_of(Lead), table_of(RuleState)
    current = (
        select(states.c.lead_id)
        .where(states.c.lead_id == lead.c.id)
        .where(states.c.rule_id == marker, states.c.rule_key == key)
        .exists()
    )
    moves = [lead.c.engagement != 0, lead.c.last_event_at > lead.c.scored_at]
    if now is not None:
        moves.append(lead.c.scored_at > now)
    query = select(lead.c.id).where(or_(*moves), ~current).order_by(lead.c.id)
    return np.asarray(session.connection().execute(query).scalars().all(), np.int64)


def _adbc_sqlite(session: Session, queries: list[str]) -> list[Any] | None:
    """The queries' rows as Arrow tables, each read by a child process at once (None when a
    second connection would not see what the session sees, or a child failed)."""
    database = _arrow.readable_path(session)
    if database is None:
        return None
    return _arrow.read_all_or_none(database, queries)


def _rows(session: Session, query: str, shape: Sequence[tuple[str, bool]]) -> Columns:
    """The slow and sure way: rows through the driver, in the session's transaction."""
    rows = session.connection().exec_driver_sql(query).all()
    return {
        name: np.array([row[k] for row in rows], np.float64 if real else np.int64)
        for k, (name, real) in enumerate(shape)
    }


_COPY_HEADER = 19  # signature (11), flags (4), header extension length (4, zero)


def _copy_binary(session: Session, query: str, shape: Sequence[tuple[str, bool]]) -> Columns:
    """COPY ... TO STDOUT (FORMAT BINARY): no NULLs, 8-byte values, so fixed-width rows."""
    row = np.dtype(
        [("fields", ">i2")]
        + [
            (f, t)
            for n, real in shape
            for f, t in ((f"{n}_len", ">i4"), (n, ">f8" if real else ">i8"))
        ]
    )
    raw: Any = session.connection().connection.dbapi_connection
    data = bytearray()
    with raw.cursor() as cursor, cursor.copy(f"COPY ({query}) TO STDOUT (FORMAT BINARY)") as copy:
        for chunk in copy:
            data += chunk
    rows = np.frombuffer(memoryview(data)[_COPY_HEADER : len(data) - 2], row)
    if len(rows) and not (rows["fields"] == len(shape)).all():
        raise ValueError("unexpected COPY row layout")
    return {name: rows[name].astype(np.float64 if real else np.int64) for name, real in shape}


class StoredEntries(NamedTuple):
    """What the decay write needs of the leads it is about to write, by id (ascending)."""

    ids: IntArray
    account_ids: list[int | None]
    contributions: list[str]  # JSON text
    grades: list[str | None]
    score_bands: IntArray


_ENTRY_COLUMNS = "account_id, CAST(contributions AS TEXT), grade, score_band"


def stored_entries(session: Session, lead_ids: Sequence[int]) -> StoredEntries:
    """The account id, stored contributions, grade and score band of these leads (those
    that still exist), in id order, as columns."""
    query = f"SELECT id, {_ENTRY_COLUMNS} FROM leads"
    rows = _rows_of(session, query, "id", sorted(set(lead_ids)))
    rows.sort(key=itemgetter(0))
    return _entries(rows, 0)


def _entries(rows: list[tuple[Any, ...]], at: int) -> StoredEntries:
    """Rows holding the id at 0 and the entry columns from `at` + 1 on, in id order."""
    count = len(rows)
    return StoredEntries(
        np.fromiter(map(itemgetter(0), rows), np.int64, count),
        list(map(itemgetter(at + 1), rows)),
        [text or "[]" for text in map(itemgetter(at + 2), rows)],
        list(map(itemgetter(at + 3), rows)),
        np.fromiter(map(itemgetter(at + 4), rows), np.int64, count),
    )


def entries_of(entries: StoredEntries, lead_ids: IntArray) -> StoredEntries:
    """The entries of these leads (ascending ids) that `entries` holds, in id order."""
    picked = np.flatnonzero(np.isin(entries.ids, lead_ids))
    listed = picked.tolist()
    return StoredEntries(
        entries.ids[picked],
        [entries.account_ids[i] for i in listed],
        [entries.contributions[i] for i in listed],
        [entries.grades[i] for i in listed],
        entries.score_bands[picked],
    )


def write_scores(
    session: Session,
    scores: dict[str, Sequence[Any]],
    scored_at: Any,
    *,
    same_ranks: bool,
    scored_as: Sequence[int],
) -> list[bool]:
    """Columns `id`, `engagement`, `total`, `grade`, `contributions` (JSON text) and
    `decay_due` of the leads whose decayed score moved (fit and persona do not decay),
    `same_ranks` as `rescoring.write_lead_scores` takes it, each only while its scoring time
    is still the one read (`scored_as`, as `read` gives it): one UPDATE per lead on SQLite,
    through a staging table on PostgreSQL. For each lead, whether it was written."""
    if not scores["id"]:
        return []
    # Its constants written into the statement: the per-row form binds only the rows' values.
    as_read = rescoring.AsRead(literal_column(_scored_us_sql(session)), scored_as)
    return rescoring.write_lead_scores(
        session, scores, scored_at, same_ranks=same_ranks, as_read=as_read
    )


def _scored_us_sql(session: Session) -> str:
    """`_scored_us` as SQL text, for the driver-level reads of a few leads."""
    compiled = _scored_us(session).compile(
        dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True}
    )
    return str(compiled)


def write_due(session: Session, rows: dict[str, Sequence[Any]]) -> None:
    """Columns `id`, `decay_due` and `scored_us` (as `read` gave it): each lead's new moment
    of change, stored only while its scoring time is still the one read (a lead scored since
    had its states changed, and its moment set "not known", by its writer). One UPDATE per
    row on SQLite and for a few rows, from a staging table on PostgreSQL."""
    count = len(rows["id"])
    if not count:
        return
    leads = table_of(Lead)
    as_read: Any = literal_column(_scored_us_sql(session))
    if not use_copy(session, count):
        statement = (
            update(leads)
            .where(leads.c.id == bindparam("p_id"), as_read == bindparam("p_scored_us"))
            .values(decay_due=bindparam("p_decay_due"))
        )
        executemany(session, statement, {f"p_{name}": column for name, column in rows.items()})
        return
    columns: list[Column[Any]] = [
        Column("id", BigInteger, primary_key=True),
        Column("decay_due", BigInteger, nullable=False),
        Column("scored_us", BigInteger, nullable=False),
    ]
    with temporary_table(session, "leadflow_decay_due", columns, rows) as temp:
        statement = (
            update(leads)
            .where(leads.c.id == temp.c.id, as_read == temp.c.scored_us)
            .values(decay_due=temp.c.decay_due)
        )
        session.connection().execute(statement)
