"""Events read as integer columns (lead, time, kind) on both engines, and when they are not."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select, text

from leadflow.core.event_kinds import kind_of, occurred_micros
from leadflow.models import Event, Lead
from leadflow.models.db import make_session_factory
from leadflow.repositories import event_columns, events

NOW = datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
PATHS: list[Any] = ["/pricing", "/", 1, 1.0, True, "1", None, {"a": [1, "x"]}, "/caf\u00e9"]


def _rows(lead_ids: list[int | None]) -> list[dict[str, Any]]:
    rows = []
    for k in range(60):
        path = PATHS[k % len(PATHS)]
        rows.append(
            {
                "lead_id": lead_ids[k % len(lead_ids)],
                "message_id": f"m{k}",
                "type": ("page", "track", "identify")[k % 3],
                "name": "Demo Requested" if k % 3 == 1 else None,
                "properties": {} if path is None else {"path": path, "url": f"u{k}"},
                "context": {},
                "occurred_at": NOW - timedelta(days=k, microseconds=k),
            }
        )
    return rows


def _store(engine: Engine) -> list[dict[str, Any]]:
    """Events by every writer (insert, insert_many, the ORM), committed."""
    with make_session_factory(engine)() as session, session.begin():
        session.add_all(Lead(email=f"p{i}@x.io") for i in range(3))
        session.flush()
        ids: list[int | None] = list(session.scalars(select(Lead.id)))
        rows = _rows([*ids, None])
        events.insert(session, **rows[0])
        events.insert_many(session, rows[1:40])
        session.add_all(Event(**row) for row in rows[40:])
    return rows


def _expected(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return sorted(
        (
            r["lead_id"],
            occurred_micros(r["occurred_at"]),
            r["type"],
            r["name"],
            r["properties"].get("path"),
        )
        for r in rows
        if r["lead_id"] is not None
    )


def _got(found: event_columns.EventKinds) -> list[tuple[Any, ...]]:
    samples = [(t, n, None if p is None else json.loads(p)) for t, n, p in found.samples]
    return sorted(
        (lead, at, *samples[k])
        for lead, at, k in zip(
            found.lead_id.tolist(), found.occurred_us.tolist(), found.kind.tolist(), strict=True
        )
    )


def test_committed_events_read_as_columns(engine: Engine) -> None:
    rows = _store(engine)
    with make_session_factory(engine)() as session, session.begin():
        found = event_columns.read_event_kinds(session)
        assert found is not None
        assert _got(found) == _expected(rows)
        # One sample per kind: 1, 1.0, True and "1" are four kinds, not one.
        assert len(found.samples) == len(
            {
                kind_of(r["type"], r["name"], r["properties"])
                for r in rows
                if r["lead_id"] is not None
            }
        )


def test_a_transaction_that_wrote_reads_its_own_events_or_none(engine: Engine) -> None:
    rows = _store(engine)
    with make_session_factory(engine)() as session, session.begin():
        lead = session.scalars(select(Lead.id)).first()
        extra = {**rows[0], "message_id": "late", "lead_id": lead}
        events.insert(session, **extra)
        found = event_columns.read_event_kinds(session)
        if engine.dialect.name == "sqlite":  # a second connection would not see "late"
            assert found is None
        else:
            assert found is not None and _got(found) == _expected([*rows, extra])


def test_events_stored_without_a_kind_are_read_as_rows(engine: Engine) -> None:
    _store(engine)
    with engine.begin() as db:
        db.execute(text("UPDATE events SET kind = NULL WHERE message_id = 'm1'"))
    with make_session_factory(engine)() as session, session.begin():
        assert event_columns.read_event_kinds(session) is None


def test_no_events(engine: Engine) -> None:
    with make_session_factory(engine)() as session, session.begin():
        found = event_columns.read_event_kinds(session)
        assert found is not None and len(found.kind) == 0 and found.samples == []


def test_every_writer_fills_in_time_and_kind(engine: Engine) -> None:
    rows = _store(engine)
    with make_session_factory(engine)() as session:
        stored = {e.message_id: e for e in session.scalars(select(Event))}
        for row in rows:
            event = stored[row["message_id"]]
            assert event.occurred_us == occurred_micros(row["occurred_at"])
            assert event.kind == kind_of(row["type"], row["name"], row["properties"])
