"""A shown score is the stored one: its contributions sum to it exactly, with `scored_at`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from leadflow.core.playbook_text import parse_playbook
from leadflow.core.scoring import points_sum
from leadflow.models import Event, Lead
from leadflow.services import leads as lead_service
from leadflow.services import pipeline
from leadflow.services.live_scoring import EXPLAINED_EVENTS

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
DECAYING = """
name: Decaying
fit:
  rules:
    - {id: us, label: In the US, points: 10, when: {field: country, equals: US}}
engagement:
  half_life_days: 3
  rules:
    - {id: visit, label: Visit, points: 1.37, event: {type: page}}
"""


def _visits(session: Session, lead: Lead, count: int) -> None:
    for k in range(count):
        at = NOW - timedelta(hours=k + 1)
        session.add(
            Event(
                lead_id=lead.id, type="page", name="Home", occurred_at=at, received_at=at,
                source="test", message_id=f"v{k}", properties={}, context={},
            )
        )  # fmt: skip
    session.flush()


@pytest.mark.parametrize("path", ["live", "bulk"])
def test_show_later_explains_the_stored_score_exactly(session: Session, path: str) -> None:
    book = parse_playbook(DECAYING)
    lead = Lead(email="cy@example.com", country="US", attributes={})
    session.add(lead)
    session.flush()
    _visits(session, lead, 30)
    if path == "live":
        pipeline.run_live(session, book, [lead.id], NOW, cause="edit")
    else:
        pipeline.run_bulk(session, book, NOW, cause="rescore", actor="rescore")
    session.flush()
    session.expire_all()
    later = NOW + timedelta(days=5)  # decay has moved on; the shown score has not
    shown = lead_service.detail(session, str(lead.id), book, later)
    assert shown["scored_at"].startswith(NOW.isoformat()[:16])
    assert points_sum(c["points"] for c in shown["contributions"]) == shown["total"]
    assert shown["total"] == lead_service.find(session, str(lead.id)).total
    assert shown["total"] != lead_service.explain(session, lead, book, later).total
    if path == "live":
        [visit] = [c for c in shown["contributions"] if c["rule"] == "visit"]
        assert visit["event_count"] == 30
        assert len(visit["events"]) == EXPLAINED_EVENTS  # bounded: the latest ones
