"""Events by time: on PostgreSQL a BRIN index (events arrive in time order, so block ranges
summarise them: 123 kB against a 224 MB B-tree at 10M events, see the README's "Scaling"),
on SQLite, which has no BRIN, a B-tree; either way a range of time is found by it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from leadflow.models.event import Event
from leadflow.repositories import events
from tests.repositories.conftest import NOW

INDEX = "ix_events_occurred_at"


def _method(session: Session) -> str | None:
    if session.get_bind().dialect.name == "sqlite":
        found = session.execute(
            text("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = :name"),
            {"name": INDEX},
        ).scalar()
        return "btree" if found else None
    query = (
        "SELECT am.amname FROM pg_class c JOIN pg_am am ON am.oid = c.relam"
        " WHERE c.relname = :name AND c.relkind = 'i'"
    )
    return session.execute(text(query), {"name": INDEX}).scalar()


def test_events_are_indexed_by_time_with_brin_on_postgresql(session: Session) -> None:
    expected = "btree" if session.get_bind().dialect.name == "sqlite" else "brin"
    assert _method(session) == expected


def test_a_range_of_time_counts_the_events_in_it(session: Session) -> None:
    rows = [
        {
            "lead_id": None, "anonymous_id": f"a{n}", "message_id": f"m{n}", "type": "page",
            "name": None, "properties": {}, "context": {},
            "occurred_at": NOW - timedelta(days=n), "received_at": NOW,
        }
        for n in range(10)
    ]  # fmt: skip
    events.insert_many(session, rows)
    since = NOW - timedelta(days=3, hours=12)
    count = session.scalar(select(func.count()).where(Event.occurred_at >= since))
    assert count == 4
