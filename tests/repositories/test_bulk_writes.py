"""Bulk writes store the same rows whichever way they go in.

On PostgreSQL many rows go in through COPY and one set-based statement (`_copy`), a few
through a per-row executemany; SQLite always takes the executemany. Each write here is made
twice with the same values: for group `a` in small calls (the per-row path), for group `b`
in one call (the COPY path on PostgreSQL), and the stored rows must be identical, and equal
to what was written (floats to the bit, JSON text as given, NULLs, unicode, timestamps).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Text, bindparam, cast, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from leadflow.models import Account, Event, Lead, ScoreEntry, StageChange
from leadflow.repositories import _rebuild, accounts, events, leads, rescoring, stage_changes
from leadflow.repositories._bulk import CHUNK, Same, driver_value, executemany
from leadflow.repositories._copy import COPY_FROM
from leadflow.repositories._driver import insert_rows
from leadflow.repositories._sql import table_of
from tests.repositories.conftest import NOW
from tests.repositories.statements import starting, statements_run

N = 3 * COPY_FROM  # rows per group: one call of these takes the COPY path on PostgreSQL
SMALL = COPY_FROM // 2  # rows per call below the threshold: the per-row path
ODD = ["tab\there", "new\nline", "back\\slash", 'quote"s', "naïve 東京 🚀", "\\N", "", "x,y|z"]
FLOATS = [0.1 + 0.2, -0.0, 1e-300, 123456.78, 5e-324, 1.7976931348623157e308, 3.0, -42.5]
JOIN_SETTINGS = ("enable_hashjoin", "enable_mergejoin")
STAGES = ["subscriber", "lead", "mql", "sql", "opportunity"]


def _odd(i: int) -> str | None:
    return None if i % 5 == 0 else f"{ODD[i % len(ODD)]}{i}"


def _float(i: int) -> float:
    return FLOATS[i % len(FLOATS)] / (1 + i % 3)


def _contributions(i: int) -> str:
    entry = {"rule": f"r{i % 7}", "label": _odd(i + 1) or 'é\t"x"', "kind": "fit"}
    return json.dumps([{**entry, "points": _float(i)}] * (i % 3))


@contextmanager
def _staged_tables(session: Session) -> Iterator[list[str]]:
    """The names of the staging tables created meanwhile (what the COPY path leaves behind)."""
    with statements_run(session) as seen:
        created: list[str] = []
        yield created
    created += [text.split()[3] for text in starting(seen, "CREATE TEMPORARY TABLE")]


def _in_calls(write: Any, rows: list[Any], size: int) -> None:
    for start in range(0, len(rows), size):
        write(rows[start : start + size])


def _lead_row(group: str, i: int) -> dict[str, Any]:
    return {
        "email": f"{group}{i:04d}@example.com",
        "first_name": _odd(i),
        "last_name": _odd(i + 3),
        "title": None if i % 2 else "VP \u00e9",
        "country": _odd(i + 1),
        "account_confidence": None if i % 3 else _float(i),
        "attributes": {"plan": _odd(i), "seats": i, "nested": {"k": ODD[i % len(ODD)]}},
        "created_at": NOW - timedelta(microseconds=i * 1_000_003),
        "updated_at": NOW,
    }


def _account_row(group: str, i: int) -> dict[str, Any]:
    return {"domain": f"{group}{i:04d}.example", "name": ODD[i % len(ODD)] + str(i),
            "industry": _odd(i), "employees": None if i % 4 else i,
            "attributes": {"note": _odd(i)}, "created_at": NOW, "updated_at": NOW}  # fmt: skip


def _columns(rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    return {key: [row[key] for row in rows] for key in rows[0]}


def _write_group(session: Session, group: str, size: int) -> None:
    """Every bulk write, for the group's rows, `size` rows per call."""
    at = NOW + timedelta(microseconds=123_457)
    accounts_in = [_account_row(group, i) for i in range(N)]
    _in_calls(lambda rows: accounts.upsert_many(session, rows), accounts_in, size)
    leads_in = [_lead_row(group, i) for i in range(N)]
    _in_calls(lambda rows: leads.upsert_many(session, rows), leads_in, size)
    merged = [{**row, "phone": _odd(i + 2), "attributes": {"more": i}}
              for i, row in enumerate(leads_in)]  # fmt: skip
    _in_calls(lambda rows: leads.upsert_many(session, rows), merged, size)  # update_by_id
    ids = _ids(session, group)
    scores = [
        {"id": ids[i], "fit": _float(i), "engagement": _float(i + 1), "total": _float(i + 2),
         "grade": _odd(i), "persona": _odd(i + 4), "contributions": _contributions(i)}
        for i in range(N)
    ]  # fmt: skip
    _in_calls(
        lambda rows: rescoring.write_lead_scores(session, _columns(rows), at),
        scores,
        size,
    )
    later = at + timedelta(seconds=1)
    _in_calls(lambda part: rescoring.stamp_scored_at(session, later, part), ids[: N // 2], size)
    _write_stages(session, ids, at, size)
    ledger = [
        {"lead_id": ids[i], "fit": _float(i), "engagement": _float(i + 1),
         "total": _float(i + 2), "grade": _odd(i), "delta_total": _float(i + 3)}
        for i in range(N)
    ]  # fmt: skip
    _in_calls(
        lambda rows: rescoring.append_ledger(session, _columns(rows), at=at, cause="bulk é"),
        ledger,
        size,
    )
    account_ids = _account_ids(session, group)
    account_scores = [
        {"id": account_ids[i], "fit": _float(i), "engagement": _float(i + 5),
         "total": _float(i + 6), "engaged_leads": i, "tier": _odd(i)}
        for i in range(N)
    ]  # fmt: skip
    _in_calls(
        lambda rows: rescoring.write_account_scores(session, _columns(rows), at),
        account_scores,
        size,
    )


def _write_stages(session: Session, ids: list[int], at: datetime, size: int) -> None:
    """Stage moves (some leads moved twice, some back from further on) and their history."""
    early = [(i, "subscriber", "opportunity") for i in range(0, N, 2)]  # reached_rank stays
    _in_calls(
        lambda part: leads.set_stages(session, [(ids[i], a, b) for i, a, b in part], at=at),
        early,
        size,
    )
    moves = [(i, "subscriber", STAGES[i % len(STAGES)]) for i in range(N)]
    moves += [(i, STAGES[i % len(STAGES)], "lead") for i in range(0, N, 7)]
    _in_calls(
        lambda part: leads.set_stages(session, [(ids[i], a, b) for i, a, b in part], at=at),
        moves,
        size,
    )
    history = [
        {"lead_id": ids[i], "from_stage": a, "to_stage": b, "at": at, "reason": _odd(i) or "é",
         "actor": "system", "previous_entered_at": None if i % 2 else at}
        for i, a, b in moves
    ]  # fmt: skip
    _in_calls(lambda rows: stage_changes.record_many(session, rows), history, size)


def _ids(session: Session, group: str) -> list[int]:
    query = select(Lead.id).where(Lead.email.like(f"{group}%")).order_by(Lead.email)
    return list(session.scalars(query))


def _account_ids(session: Session, group: str) -> list[int]:
    query = select(Account.id).where(Account.domain.like(f"{group}%")).order_by(Account.domain)
    return list(session.scalars(query))


def _rows(session: Session, model: Any, where: Any, order: Any) -> list[tuple[Any, ...]]:
    """Every column but ids (JSON as its stored text), floats as their bits."""
    table = table_of(model)
    skipped = {"id", "email", "domain", "lead_id"}
    columns = [cast(c, Text) if c.name in {"attributes", "contributions"} else c
               for c in table.columns if c.name not in skipped]  # fmt: skip
    rows = session.execute(select(*columns).where(where).order_by(*order)).all()
    return [tuple(v.hex() if isinstance(v, float) else v for v in row) for row in rows]


def _stored(session: Session, group: str) -> dict[str, Any]:
    lead_of = select(Lead.id).where(Lead.email.like(f"{group}%"))
    return {
        "leads": _rows(session, Lead, Lead.email.like(f"{group}%"), [Lead.email]),
        "accounts": _rows(session, Account, Account.domain.like(f"{group}%"), [Account.domain]),
        "ledger": _rows(
            session,
            ScoreEntry,
            ScoreEntry.lead_id.in_(lead_of),
            [ScoreEntry.lead_id, ScoreEntry.id],
        ),
        "stage_changes": _rows(
            session,
            StageChange,
            StageChange.lead_id.in_(lead_of),
            [StageChange.lead_id, StageChange.id],
        ),
    }


@pytest.mark.parametrize("rebuilt", [False, True], ids=["indexes-kept", "indexes-rebuilt"])
def test_many_rows_store_what_few_rows_store(
    session: Session, rebuilt: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`rebuilt`: every write of a large share of a table sets its indexes aside on SQLite
    (`_rebuild`), here from 1 row on: the rows stored must not change."""
    if rebuilt:
        monkeypatch.setattr(_rebuild, "AT_LEAST", 1)
    with _staged_tables(session) as small:
        _write_group(session, "a", SMALL)
    with _staged_tables(session) as big:
        _write_group(session, "b", N)
    assert not small
    on_postgresql = session.get_bind().dialect.name == "postgresql"
    # staged: new accounts and leads (ON CONFLICT), merged leads, lead scores, stamps, stages
    # (twice), account scores; stage changes and ledger rows are copied straight in
    assert len(big) == (8 if on_postgresql else 0)
    a, b = _stored(session, "a"), _stored(session, "b")
    for name in a:
        assert len(a[name]) >= N, name
        assert a[name] == b[name], name
    # ids are given in row order, as the per-row inserts give them
    assert _ids(session, "b") == sorted(_ids(session, "b"))
    assert _account_ids(session, "b") == sorted(_account_ids(session, "b"))


def test_many_rows_are_stored_as_written(session: Session) -> None:
    _write_group(session, "b", N)
    on_postgresql = session.get_bind().dialect.name == "postgresql"
    ids = _ids(session, "b")
    stored = {lead.id: lead for lead in leads.get_many(session, ids)}
    for i, lead_id in enumerate(ids):
        lead = stored[lead_id]
        session.refresh(lead)
        row = _lead_row("b", i)
        assert (lead.first_name, lead.last_name) == (_odd(i), _odd(i + 3))
        assert (lead.country, lead.phone) == (_odd(i + 1), _odd(i + 2))
        assert lead.attributes == {**row["attributes"], "more": i}
        assert lead.created_at == row["created_at"]
        assert lead.fit == _float(i)  # to the bit, but SQLite keeps -0.0 as 0
        if on_postgresql:
            assert math.copysign(1, lead.fit) == math.copysign(1, _float(i))
        assert (lead.grade, lead.persona) == (_odd(i), _odd(i + 4))
        assert lead.contributions == json.loads(_contributions(i))
        stamped = timedelta(seconds=1) if i < N // 2 else timedelta(0)
        assert lead.scored_at == NOW + timedelta(microseconds=123_457) + stamped
        final = "lead" if i % 7 == 0 else STAGES[i % len(STAGES)]
        assert lead.stage == final
    text = session.scalar(select(cast(Lead.contributions, Text)).where(Lead.id == ids[4]))
    assert text == _contributions(4)


def test_inserts_count_only_the_new_rows(session: Session) -> None:
    table = table_of(Lead)
    rows = [_lead_row("c", i) for i in range(N)]
    assert insert_rows(session, table, rows[: N // 2], unless="email") == N // 2
    # the upsert merges stored rows when fewer than it sent were new: the count must be exact
    assert insert_rows(session, table, rows, unless="email") == N - N // 2
    assert insert_rows(session, table, rows, unless="email") == 0


def _leftovers(session: Session) -> tuple[Any, ...]:
    """Temporary tables still there, and (PostgreSQL) the join settings the writes change."""
    connection = session.connection()
    if session.get_bind().dialect.name == "sqlite":
        return tuple(connection.exec_driver_sql("SELECT name FROM sqlite_temp_master").all())
    tables = connection.exec_driver_sql("SELECT relname FROM pg_class WHERE relpersistence = 't'")
    joins = [connection.exec_driver_sql(f"SHOW {name}").scalar() for name in JOIN_SETTINGS]
    return (*tables.all(), *joins)


def test_staging_leaves_the_transaction_as_it_was(session: Session) -> None:
    before = _leftovers(session)
    _write_group(session, "d", N)
    assert _leftovers(session) == before


def test_a_driver_error_in_a_later_chunk_is_sqlalchemys(session: Session) -> None:
    """Rows go to the driver a chunk at a time, each through SQLAlchemy, so a failing row
    after the first chunk raises SQLAlchemy's error (what callers and the engine's error
    handling expect), not the driver's own."""
    leads.upsert_many(session, [_lead_row("e", 0)])
    (lead_id,) = _ids(session, "e")
    count = CHUNK + 5
    entry = table_of(ScoreEntry)
    names = ["lead_id", "fit", "engagement", "total", "delta_total", "at", "cause"]
    statement = insert(entry).values({name: bindparam(name) for name in names})
    columns: dict[str, Any] = {name: [1.5] * count for name in names[1:5]}
    columns["lead_id"] = [lead_id] * (count - 1) + [lead_id + 1_000_000]  # no such lead
    columns["at"] = Same(driver_value(session, ScoreEntry.at, NOW))
    columns["cause"] = Same("chunks")
    with pytest.raises(IntegrityError):
        executemany(session, statement, columns)


def _event_row(group: str, lead_id: int, i: int) -> dict[str, Any]:
    return {
        "lead_id": lead_id, "source": "bulk é",
        "message_id": f"{group}-{i % (N - 7)}",  # the last 7 repeat earlier ones: skipped
        "type": "page" if i % 3 else "track", "name": None if i % 3 else _odd(i) or "Signed Up",
        "properties": {"path": _odd(i), "campaign": _odd(i + 1), "n": _float(i)},
        "context": {"ip": ODD[i % len(ODD)]} if i % 2 else {},
        "occurred_at": NOW - timedelta(microseconds=i * 1_000_003), "received_at": NOW,
    }  # fmt: skip


def _stored_events(session: Session, lead_id: int) -> list[tuple[Any, ...]]:
    """Every column but ids, JSON as its stored text, the message id without its group."""
    table = table_of(Event)
    columns = [cast(c, Text) if c.name in {"properties", "context"} else c
               for c in table.columns if c.name not in {"id", "lead_id"}]  # fmt: skip
    query = select(*columns).where(table.c.lead_id == lead_id).order_by(table.c.id)
    return [
        tuple(v.split("-", 1)[1] if name == "message_id" else v for name, v in row._mapping.items())
        for row in session.execute(query)
    ]


def test_events_in_many_rows_store_what_few_rows_store(session: Session) -> None:
    """`events.insert_many` (COPY on PostgreSQL from COPY_FROM rows): the same rows, ids in
    row order, and the same count of new ones, a repeated message id skipped either way."""
    leads.upsert_many(session, [_lead_row(group, 0) for group in "ab"])
    lead_of = {group: _ids(session, group)[0] for group in "ab"}
    new: dict[str, int] = {}
    staging: dict[str, list[str]] = {}
    for group, size in (("a", SMALL), ("b", N)):
        rows = [_event_row(group, lead_of[group], i) for i in range(N)]
        with _staged_tables(session) as staging[group]:
            new[group] = sum(
                events.insert_many(session, rows[start : start + size])
                for start in range(0, N, size)
            )
        assert events.insert_many(session, rows) == 0  # all stored before
    assert new == {"a": N - 7, "b": N - 7}
    on_postgresql = session.get_bind().dialect.name == "postgresql"
    assert (len(staging["a"]), len(staging["b"])) == (0, 1 if on_postgresql else 0)
    stored = {group: _stored_events(session, lead_of[group]) for group in "ab"}
    assert len(stored["a"]) == N - 7
    assert stored["a"] == stored["b"]
    # ids are given in row order, as the per-row inserts give them
    assert [row[2] for row in stored["b"]] == [str(i) for i in range(N - 7)]
