"""Statements of the per-event path on the driver's cursor: the same rows, types and errors
as through SQLAlchemy, on both engines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import bindparam, exc, insert, select, update
from sqlalchemy.orm import Session

from leadflow.models.event import Event
from leadflow.models.identity import Identity
from leadflow.models.lead import Lead
from leadflow.repositories import (
    _hot,
    events,
    identities,
    lead_activity,
    leads,
    rule_state,
    score_ledger,
)
from leadflow.repositories import people as people_repo
from leadflow.repositories._sql import table_of
from tests.repositories.conftest import NOW


@given(st.lists(st.text(max_size=3), max_size=300))
def test_in_lists_pass_every_value_in_order_padded_to_few_sizes(values: list[str]) -> None:
    lists = _hot.in_lists(values)
    passed: list[str] = []
    for listed in lists:
        assert len(listed) in _hot.IN_SIZES
        part = listed[: min(len(listed), len(values) - len(passed))]
        padding = listed[len(part) :]
        assert set(padding) <= {part[-1]}  # the last value repeated: matches as once
        passed += part
    assert passed == values


def _row(message_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "lead_id": None,
        "anonymous_id": "visitor",
        "source": "api",
        "message_id": message_id,
        "type": "page",
        "name": None,
        "properties": {"path": "/pricing", "seats": 12, "nested": {"ok": True}},
        "context": {"page": {"path": "/pricing"}, "campaign": {"name": "spring"}},
        "occurred_at": NOW,
        "received_at": NOW + timedelta(seconds=1),
        **fields,
    }


@given(st.integers(min_value=0, max_value=500))
def test_pieces_cover_any_count_in_order_with_few_sizes(count: int) -> None:
    pieces = _hot.pieces(count)
    assert all(size in _hot.IN_SIZES for _, size in pieces)
    assert [i for start, size in pieces for i in range(start, start + size)] == list(range(count))


@pytest.mark.parametrize("count", [1, 3, 8, 9, 40, 150])
def test_insert_new_stores_what_it_returns_at_every_size(session: Session, count: int) -> None:
    """Events go through the driver's cursor in pieces: every column stored as SQLAlchemy
    stores it (JSON, UTC times, the kind and path looked up), stored ids skipped."""
    rows = [_row(f"m{i}") for i in range(count)]
    first = events.insert_new(session, rows[: count // 2 + 1])
    again = events.insert_new(session, [*rows, rows[0]])  # stored ones and a repeat skipped
    assert set(first) | set(again) == {r["message_id"] for r in rows}
    assert not set(first) & set(again)
    stored = session.scalars(select(Event).order_by(Event.id)).all()
    assert [e.id for e in stored] == sorted({**first, **again}.values())
    for event in stored:
        assert event.properties == rows[0]["properties"]
        assert event.context == rows[0]["context"]
        assert event.occurred_at == NOW and event.occurred_at.tzinfo is not None
        assert event.received_at == NOW + timedelta(seconds=1)
        assert event.path == "/pricing" and event.campaign == "spring"
        assert event.kind is not None and event.occurred_us is not None


def test_leads_for_finds_every_linked_key_across_in_lists(session: Session) -> None:
    lead = leads.create(session, email="jane@x.com")
    linked = [f"anon-{i}" for i in range(150)]
    session.execute(
        insert(table_of(Identity)),
        [{"anonymous_id": k, "lead_id": lead.id, "created_at": NOW} for k in linked],
    )
    asked = [*linked[::-1], "unknown", "user:nobody", *linked[:5]]
    assert identities.leads_for(session, asked) == dict.fromkeys(linked, lead.id)
    assert identities.leads_for(session, ["anon-7"]) == {"anon-7": lead.id}
    assert identities.leads_for(session, []) == {}


def test_a_driver_error_is_raised_as_sqlalchemy_raises_it(session: Session) -> None:
    """A constraint broken on the driver's cursor is SQLAlchemy's IntegrityError, as callers
    expect, and names the statement."""
    lead = leads.create(session, email="jane@x.com")
    row = {"anonymous_id": "taken", "lead_id": lead.id, "created_at": NOW}
    session.execute(insert(table_of(Identity)), [row])
    build = lambda: insert(table_of(Identity)).values(  # noqa: E731
        {name: bindparam(name, type_=table_of(Identity).c[name].type) for name in row}
    )
    with pytest.raises(exc.IntegrityError) as raised:
        _hot.run(session, ("test_taken_identity",), build, row)
    assert "INSERT INTO identities" in str(raised.value)


def test_a_statement_with_python_side_defaults_is_refused(session: Session) -> None:
    """Columns left to Python-side defaults would reach the driver unset: refused up front."""
    build = lambda: insert(table_of(Identity)).values(anonymous_id="a", lead_id=1)  # noqa: E731
    with pytest.raises(ValueError, match="created_at"):
        _hot.run(session, ("test_defaults",), build, {})


def test_values_the_statement_holds_itself_are_passed(session: Session) -> None:
    """A LIMIT or a literal bound in the statement reaches the driver with the caller's own."""
    lead = leads.create(session, email="jane@x.com")
    at = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    session.execute(
        insert(table_of(Identity)),
        [{"anonymous_id": f"k{i}", "lead_id": lead.id, "created_at": at} for i in range(3)],
    )
    build = lambda: select(Identity.anonymous_id).order_by(Identity.anonymous_id).limit(2)  # noqa: E731
    assert [tuple(r) for r in _hot.run(session, ("test_limit",), build, {})] == [("k0",), ("k1",)]


@pytest.mark.parametrize("asked", [0, 1, 5, 64, 65, 130])
def test_a_listed_statement_answers_for_every_value_at_every_size(
    session: Session, asked: int
) -> None:
    """An IN list run in pieces of a few sizes (padded) finds exactly the rows it would whole."""
    people = [leads.create(session, email=f"p{i}@x.com", do_not_track=i % 3 == 0)
              for i in range(140)]  # fmt: skip
    session.flush()
    ids = [p.id for p in people][:asked]
    wanted = {p.id for p in people[:asked] if p.do_not_track}
    assert people_repo.do_not_track(session, [*ids, *ids[:3]]) == wanted


def test_a_listed_update_takes_its_other_parameters(session: Session) -> None:
    """`note_added` (an UPDATE with a parameter beside its IN list) sets each lead's latest
    event and page view, for every lead listed and no other."""
    people = [leads.create(session, email=f"p{i}@x.com") for i in range(70)]
    rows = [_row(f"m{i}", lead_id=p.id, occurred_at=NOW + timedelta(minutes=i))
            for i, p in enumerate(people)]  # fmt: skip
    events.insert_new(session, rows)
    lead_activity.note_added(session, [p.id for p in people[:66]])
    session.expire_all()
    for i, person in enumerate(people):
        latest = NOW + timedelta(minutes=i) if i < 66 else None
        assert (person.last_event_at, person.last_page_view_at) == (latest, latest)


def _state(lead_id: int, rule: str, count: int) -> dict[str, Any]:
    return {"lead_id": lead_id, "rule_id": rule, "rule_key": f"key-{rule}", "count": count,
            "band": count % 3 or None, "anchored": count / 7, "window_from": 10**15 + count,
            "partials": [[0.5, count]],
            "latest": [["2025-03-01T12:00:00Z", "e", count]]}  # fmt: skip


@pytest.mark.parametrize("rules", [1, 3, 64, 65])
def test_states_written_on_the_cursor_are_what_the_batch_path_writes(
    session: Session, rules: int
) -> None:
    """A few states (the driver's cursor) and many (SQLAlchemy's executemany) store the same
    rows, and a second write replaces them; either way the lead's moment of change is then
    not known (the next decay pass reads it)."""
    lead = leads.create(session, email="jane@x.com")
    first = [_state(lead.id, f"r{i}", i) for i in range(rules)]
    rule_state.write(session, first)
    known = update(Lead).where(Lead.id == lead.id).values(decay_due=10**15)
    session.execute(known, execution_options={"synchronize_session": False})
    again = [_state(lead.id, f"r{i}", i + 100) for i in range(rules)]
    rule_state.write(session, again)
    stored = rule_state.read(session, [lead.id])[lead.id]
    assert stored == {row["rule_id"]: row for row in again}
    due = session.execute(select(Lead.decay_due).where(Lead.id == lead.id)).scalar_one()
    assert due == rule_state.NOT_KNOWN


def test_a_score_logged_on_the_cursor_reads_back_whole(session: Session) -> None:
    lead = leads.create(session, email="jane@x.com")
    score_ledger.append(session, lead_id=lead.id, at=NOW, cause="event", fit=10.0,
                        engagement=2.5, total=12.5, grade="B", delta_total=1.25)  # fmt: skip
    [entry] = score_ledger.for_lead(session, lead.id)
    assert (entry.at, entry.cause, entry.fit, entry.engagement, entry.total, entry.grade,
            entry.delta_total, entry.event_id) == (NOW, "event", 10.0, 2.5, 12.5, "B", 1.25,
                                                   None)  # fmt: skip
