"""The bulk path (import, rescore, playbook apply, the decay sweep, the demo) gives a lead the
same facts as the live path: the account's tier for routing, the model's probability for fit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadflow.core.playbook_text import parse_playbook
from leadflow.models import Account, Assignment, Event, Lead, Rep
from leadflow.services import pipeline

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
B2B = (Path(__file__).resolve().parents[2] / "examples" / "b2b_saas.yaml").read_text()


def _top_tier_lead_with_demo_request(session: Session, domain: str) -> Lead:
    account = Account(domain=domain, name="Top Co", employees=500)
    session.add(account)
    session.flush()
    lead = Lead(email=f"ann@{domain}", title="VP Operations", account_id=account.id)
    session.add(lead)
    session.flush()
    event = Event(
        lead_id=lead.id,
        type="track",
        name="Demo Requested",
        occurred_at=NOW - timedelta(minutes=5),
        received_at=NOW - timedelta(minutes=5),
        source="test",
        message_id="m1",
        properties={},
        context={},
    )
    session.add(event)
    session.flush()
    return lead


def test_bulk_path_routes_a_top_tier_lead_by_its_account_tier(session: Session) -> None:
    book = parse_playbook(B2B)
    top = next(t for t in book.tiers if t.id == "top")
    lead = _top_tier_lead_with_demo_request(session, top.domains[0])
    session.add(Rep(name="Ana", email="ana@flowline.io", team="enterprise"))  # at work: Monday
    pipeline.run_bulk(session, book, NOW, cause="rescore", actor="rescore")
    assignment = session.scalars(select(Assignment).where(Assignment.lead_id == lead.id)).one()
    session.refresh(lead)
    assert lead.stage == "sql"
    assert assignment.team == "enterprise", assignment.reason
    assert "named_accounts" in assignment.reason


PROBABLE = """
name: Probable
fit:
  rules:
    - {id: likely, label: Likely to buy, points: 30, when: {field: probability, gte: 0.5}}
"""


def test_a_probability_rule_scores_the_same_live_and_in_bulk(session: Session) -> None:
    book = parse_playbook(PROBABLE)
    lead = Lead(email="bo@example.com", probability=0.7, attributes={})
    session.add(lead)
    session.flush()
    pipeline.run_live(session, book, [lead.id], NOW, cause="edit")
    assert lead.fit == 30
    pipeline.run_bulk(session, book, NOW, cause="rescore", actor="rescore")
    session.refresh(lead)
    assert lead.fit == 30
    assert [c["rule"] for c in lead.contributions] == ["likely"]
