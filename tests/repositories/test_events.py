"""Events repository: dedupe on (source, message id), timelines and column streams."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from leadflow.repositories import events, leads
from tests.repositories.conftest import NOW


def _event(message_id: str, lead_id: int | None, minutes: int = 0, **fields: Any) -> dict[str, Any]:
    return {
        "lead_id": lead_id,
        "message_id": message_id,
        "type": "track",
        "name": "Demo Requested",
        "properties": {"plan": "pro"},
        "context": {},
        "occurred_at": NOW + timedelta(minutes=minutes),
        "received_at": NOW,
        **fields,
    }


def test_duplicate_message_id_returns_none_and_keeps_the_transaction(session: Session) -> None:
    lead = leads.create(session, email="a@b.com")
    stored = events.insert(session, **_event("m-1", lead.id))
    assert stored is not None
    assert (stored.id, stored.source, stored.properties) == (stored.id, "api", {"plan": "pro"})
    assert events.insert(session, **_event("m-1", lead.id, minutes=5)) is None
    # Same message id from another source is another event.
    assert events.insert(session, **_event("m-1", lead.id, source="import")) is not None
    # The transaction is still usable after the skipped duplicate.
    assert leads.create(session, email="c@d.com").id is not None
    assert events.count(session) == 2


def test_insert_many_skips_stored_and_repeated_rows(session: Session) -> None:
    lead = leads.create(session, email="a@b.com")
    assert events.insert_many(session, [_event("m-1", lead.id), _event("m-2", lead.id)]) == 2
    batch = [_event("m-2", lead.id), _event("m-3", lead.id), _event("m-3", lead.id)]
    assert events.insert_many(session, batch) == 1
    assert events.insert_many(session, []) == 0
    assert events.count(session) == 3


def test_for_lead_orders_by_time(session: Session) -> None:
    lead = leads.create(session, email="a@b.com")
    events.insert_many(
        session,
        [_event("late", lead.id, 30), _event("early", lead.id, 0), _event("mid", lead.id, 10)],
    )
    assert [e.message_id for e in events.for_lead(session, lead.id)] == ["early", "mid", "late"]
    assert events.for_lead(session, lead.id)[0].occurred_at == NOW


def test_latest_of_many_leads_is_each_ones_latest_oldest_first(session: Session) -> None:
    """What an alert shows of each lead, read for many at once: its latest `limit` events
    by time, ties by id (the order they were stored), oldest first; a lead without events
    is absent, and another lead's events never leak in."""
    a, b, c, quiet = (leads.create(session, email=f"{n}@x.io") for n in "abcq")
    rows = [_event(f"a{i}", a.id, minutes=i % 4, name=f"A{i}", properties={"path": f"/{i}"})
            for i in range(7)]  # fmt: skip
    rows += [_event("b0", b.id, 5, type="page", name=None, properties={})]
    rows += [_event(f"c{i}", c.id, minutes=-i) for i in range(3)]
    events.insert_many(session, [*rows, _event("anon", None, anonymous_id="x")])
    found = events.latest_of(session, [a.id, b.id, c.id, quiet.id, a.id], limit=3)
    assert set(found) == {a.id, b.id, c.id}
    # a: minutes 0,1,2,3,0,1,2 -> the latest three are A3 (3), then A2 and A6 (2, by id)
    assert [e.name for e in found[a.id]] == ["A2", "A6", "A3"]
    assert [e.properties["path"] for e in found[a.id]] == ["/2", "/6", "/3"]
    assert [(e.type, e.name, e.properties) for e in found[b.id]] == [("page", None, {})]
    assert [e.occurred_at for e in found[c.id]] == [NOW - timedelta(minutes=m) for m in (2, 1, 0)]
    for lead_id, latest in found.items():  # the one-by-one answer, as the ORM gives it
        every = events.for_lead(session, lead_id)[-3:]
        assert [(e.type, e.name, e.occurred_at) for e in every] == [
            (e.type, e.name, e.occurred_at) for e in latest
        ]
        assert events.latest_of(session, [lead_id], limit=3) == {lead_id: latest}  # a hand-off's
    assert events.latest_of(session, [quiet.id], limit=3) == {}


def test_iter_all_columns_streams_chunks_by_lead_then_time(session: Session) -> None:
    first = leads.create(session, email="a@b.com")
    second = leads.create(session, email="c@d.com")
    rows = [_event(f"m{i}", (first.id, second.id)[i % 2], minutes=-i) for i in range(7)]
    events.insert_many(session, [*rows, _event("anon", None, anonymous_id="x")])
    chunks = list(events.iter_all_columns(session, chunk_size=3))
    assert [len(c) for c in chunks] == [3, 3, 1]
    flat = [row for chunk in chunks for row in chunk]
    assert [row.lead_id for row in flat] == [first.id] * 4 + [second.id] * 3
    first_times = [row.occurred_at for row in flat[:4]]
    assert first_times == sorted(first_times)
    _, _, kind, name, properties, _, _ = flat[0]
    assert (kind, name, properties) == ("track", "Demo Requested", {"plan": "pro"})
    only_second = [r for c in events.iter_all_columns(session, lead_ids=[second.id]) for r in c]
    assert {row.lead_id for row in only_second} == {second.id}
