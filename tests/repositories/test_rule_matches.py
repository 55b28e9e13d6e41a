"""Rule matches repository: the incremental scoring state."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from leadflow.repositories import events, leads, rule_matches
from tests.repositories.conftest import NOW


def _setup(session: Session) -> tuple[int, int, int]:
    lead = leads.create(session, email="a@b.com")
    other = leads.create(session, email="c@d.com")
    event = events.insert(
        session, lead_id=lead.id, message_id="m", type="page", occurred_at=NOW, received_at=NOW
    )
    assert event is not None
    return lead.id, other.id, event.id


def _match(lead_id: int, event_id: int, rule: str, points: float = 5.0) -> dict[str, Any]:
    return {
        "lead_id": lead_id,
        "event_id": event_id,
        "rule_id": rule,
        "occurred_at": NOW,
        "points": points,
    }


def test_add_many_skips_known_matches(session: Session) -> None:
    lead_id, _, event_id = _setup(session)
    assert rule_matches.add_many(session, [_match(lead_id, event_id, "pricing")]) == 1
    rows = [_match(lead_id, event_id, "pricing"), _match(lead_id, event_id, "any_page", 1.0)]
    assert rule_matches.add_many(session, rows) == 1
    found = rule_matches.for_lead(session, lead_id)
    assert sorted(m.rule_id for m in found) == ["any_page", "pricing"]
    assert found[0].occurred_at == NOW


def test_replace_and_delete(session: Session) -> None:
    lead_id, other_id, event_id = _setup(session)
    rule_matches.add_many(
        session, [_match(lead_id, event_id, "a"), _match(other_id, event_id, "a")]
    )
    assert rule_matches.replace_all(session, [_match(lead_id, event_id, "b")], lead_ids=[lead_id])
    assert [m.rule_id for m in rule_matches.for_lead(session, lead_id)] == ["b"]
    assert [m.rule_id for m in rule_matches.for_lead(session, other_id)] == ["a"]
    assert rule_matches.replace_all(session, [_match(other_id, event_id, "c")]) == 1
    assert rule_matches.for_lead(session, lead_id) == []
    assert rule_matches.delete_for_leads(session, [other_id, lead_id]) == 1
