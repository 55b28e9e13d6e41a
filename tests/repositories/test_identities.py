"""Identities repository: anonymous visitors linked to leads."""

from __future__ import annotations

from sqlalchemy.orm import Session

from leadflow.repositories import events, identities, leads
from tests.repositories.conftest import NOW


def test_link_first_wins_and_events_move_to_the_lead(session: Session) -> None:
    jane = leads.create(session, email="jane@x.com")
    other = leads.create(session, email="other@x.com")
    events.insert_many(
        session,
        [
            {
                "anonymous_id": "anon-1",
                "message_id": f"m{i}",
                "type": "page",
                "properties": {},
                "context": {},
                "occurred_at": NOW,
                "received_at": NOW,
            }
            for i in range(3)
        ],
    )
    assert identities.lead_for_anonymous(session, "anon-1") is None
    assert identities.link(session, anonymous_id="anon-1", lead_id=jane.id, at=NOW) == jane.id
    assert identities.link(session, anonymous_id="anon-1", lead_id=other.id, at=NOW) == jane.id
    assert identities.lead_for_anonymous(session, "anon-1") == jane.id
    moved = identities.reassign_events(session, anonymous_id="anon-1", lead_id=jane.id)
    stored = events.for_lead(session, jane.id)
    assert len(stored) == 3  # the events that moved, as the stage step sees them
    assert sorted(e.id for e in moved) == sorted(str(e.id) for e in stored)
