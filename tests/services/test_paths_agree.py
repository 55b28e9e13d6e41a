"""The bulk path (import, rescore, playbook apply, the decay sweep, the demo) gives a lead the
same facts as the live path: the account's tier for routing, the model's probability for fit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadflow.core.playbook import Playbook
from leadflow.core.playbook_text import parse_playbook
from leadflow.models import Account, Assignment, Event, Lead, Rep
from leadflow.services import ingest, pipeline
from leadflow.services.importing import import_events
from leadflow.services.ingest.traits import MAX_ATTRIBUTES, with_attributes

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


def test_a_probability_sent_as_a_trait_is_not_the_models(session: Session) -> None:
    # Before: where the model had given no probability, the lead's attribute of that name
    # was read instead, so a trait `probability: 0.99` (anyone holding the public write key
    # can send one) or an import's Probability column scored as the model's prediction.
    book = parse_playbook(PROBABLE)
    traits = {"email": "eve@example.com", "probability": 0.99}
    identify = {"type": "identify", "userId": "eve@example.com", "messageId": "i1"}
    _sent(session, book, NOW, {**identify, "traits": traits})
    lead = _lead(session, "eve@example.com")
    assert lead.attributes["probability"] == 0.99  # kept as sent, read by nothing
    assert lead.probability is None and lead.fit == 0 and lead.contributions == []
    pipeline.run_bulk(session, book, NOW, cause="rescore", actor="rescore")
    session.refresh(lead)
    assert lead.fit == 0 and lead.contributions == []
    lead.probability = 0.7  # the model's
    pipeline.run_live(session, book, [lead.id], NOW, cause="edit")
    assert lead.fit == 30


HAND_RAISER = """
name: Hand raiser
engagement:
  rules:
    - {id: demo, label: Demo, points: 40, decay: false, event: {type: track, name: Demo Requested}}
    - {id: pro, label: Pro plan, points: 9, decay: false,
       event: {type: identify, where: {field: properties.plan, equals: pro}}}
    - {id: grp, label: Group joined, points: 4, decay: false,
       event: {type: group, where: {field: properties.groupId, exists: true}}}
lifecycle:
  lead: {field: email, exists: true}
  mql: {field: total, gte: 30}
  hand_raisers:
    - {label: Demo requested, stage: sql, event: {type: track, name: Demo Requested}}
  sales_ready: [sql]
routing: {fallback: inbound}
"""


def _sent(session: Session, book: Playbook, now: datetime, *messages: dict[str, Any]) -> None:
    valid, rejected = ingest.parse_all(list(messages), now)
    assert not rejected, rejected
    ingest.ingest(session, book, valid, source="test", now=now)


def _lead(session: Session, email: str) -> Lead:
    lead = session.scalars(select(Lead).where(Lead.email == email)).one()
    session.refresh(lead)
    return lead


def test_a_demo_requested_before_the_form_identifies_hands_off_as_an_import_does(
    session: Session,
) -> None:
    """A site sends the form's track, then its identify: the demo request was the visitor's,
    and becomes the lead's when it is known; it raises the hand as the same history imported."""
    book = parse_playbook(HAND_RAISER)
    demo = {"type": "track", "event": "Demo Requested", "anonymousId": "v1", "messageId": "d",
            "timestamp": (NOW - timedelta(seconds=2)).isoformat()}  # fmt: skip
    identify = {"type": "identify", "anonymousId": "v1", "userId": "ann@acme.com",
                "traits": {"email": "ann@acme.com"}, "messageId": "i"}  # fmt: skip
    _sent(session, book, NOW - timedelta(seconds=2), demo)
    _sent(session, book, NOW, identify)
    ann = _lead(session, "ann@acme.com")
    assert (ann.stage, ann.total) == ("sql", 40)
    assigned = session.scalars(select(Assignment).where(Assignment.lead_id == ann.id)).all()
    assert len(assigned) == 1
    rows = [{"email": "bo@acme.com", "type": "track", "name": "Demo Requested",
             "timestamp": demo["timestamp"]}]  # fmt: skip
    report = import_events(session, enumerate(rows, 2), skip_invalid=False, now=NOW)
    pipeline.run_bulk(session, book, NOW, cause="import", actor="import",
                      lead_ids=report.touched_lead_ids)  # fmt: skip
    assert _lead(session, "bo@acme.com").stage == ann.stage


def test_a_known_leads_imported_demo_request_hands_off_as_the_same_call_sent_live(
    session: Session,
) -> None:
    """Leads imported first, their history after: a demo request made before the lead was
    imported is news when it arrives, by a tracking call or by an import alike."""
    book = parse_playbook(HAND_RAISER)
    earlier = NOW - timedelta(hours=1)
    leads = [Lead(email=f"{name}@acme.com", attributes={}) for name in ("ann", "bo")]
    session.add_all(leads)
    session.flush()
    pipeline.run_live(session, book, [lead.id for lead in leads], earlier, cause="import")
    assert [lead.stage for lead in leads] == ["lead", "lead"]
    asked = (NOW - timedelta(hours=3)).isoformat()  # before the leads were known
    _sent(session, book, NOW, {"type": "track", "event": "Demo Requested", "messageId": "d",
                               "userId": "ann@acme.com", "timestamp": asked})  # fmt: skip
    ann = _lead(session, "ann@acme.com")
    assert ann.stage == "sql"
    rows = [{"email": "bo@acme.com", "type": "track", "name": "Demo Requested",
             "timestamp": asked}]  # fmt: skip
    report = import_events(session, enumerate(rows, 2), skip_invalid=False, now=NOW)
    pipeline.run_import(session, book, report, NOW, actor="import history.jsonl")
    bo = _lead(session, "bo@acme.com")
    assert (bo.stage, bo.total) == (ann.stage, ann.total)
    handed = session.scalars(select(Assignment).where(Assignment.lead_id == bo.id)).all()
    assert [a.hand_raiser for a in handed] == [True]


def test_identify_and_group_score_on_what_is_stored_live_as_in_bulk(session: Session) -> None:
    """The event stored for an identify holds its traits as properties, for a group its
    groupId and traits; live scoring reads the event as stored, as a re-score does."""
    book = parse_playbook(HAND_RAISER)
    who = {"userId": "cy@acme.com"}
    _sent(
        session,
        book,
        NOW - timedelta(minutes=2),
        {**who, "type": "identify", "messageId": "i1", "traits": {"email": "cy@acme.com"}},
    )
    _sent(session, book, NOW - timedelta(minutes=1),
          {**who, "type": "identify", "messageId": "i2", "traits": {"plan": "pro"}},
          {**who, "type": "group", "messageId": "g1", "groupId": "acme.com"})  # fmt: skip
    live = _lead(session, "cy@acme.com")
    assert live.total == 9 + 4, live.contributions
    pipeline.run_bulk(session, book, NOW, cause="rescore", actor="rescore")
    assert _lead(session, "cy@acme.com").total == live.total


def test_an_event_dated_after_the_moment_scored_raises_no_hand(session: Session) -> None:
    """`rescore --at` a moment before a stored demo request: neither its points nor its hand."""
    book = parse_playbook(HAND_RAISER)
    lead = Lead(email="di@acme.com", attributes={})
    session.add(lead)
    session.flush()
    later = NOW + timedelta(days=1)
    session.add(Event(lead_id=lead.id, type="track", name="Demo Requested", occurred_at=later,
                      received_at=later, source="test", message_id="m1", properties={},
                      context={}))  # fmt: skip
    session.flush()
    pipeline.run_bulk(session, book, NOW, cause="rescore", actor="rescore")
    di = _lead(session, "di@acme.com")
    assert (di.total, di.stage) == (0, "lead")


def test_an_import_dates_an_event_from_the_future_at_the_import(session: Session) -> None:
    """As the tracking API does: an event cannot have happened after it was received."""
    rows = [{"email": "ed@acme.com", "type": "track", "name": "Demo Requested",
             "timestamp": (NOW + timedelta(days=7)).isoformat()}]  # fmt: skip
    report = import_events(session, enumerate(rows, 2), skip_invalid=False, now=NOW)
    assert report.imported == 1
    stored = session.scalars(select(Event).where(Event.message_id.like("import-%"))).one()
    assert stored.occurred_at.replace(tzinfo=UTC) == NOW
    assert report.dated_at_import == 1


def test_declared_custom_fields_are_kept_past_the_attribute_limit() -> None:
    full = {f"junk_{i}": 1 for i in range(MAX_ATTRIBUTES)}
    kept = with_attributes(full, {"budget": 900, "other": 1}, frozenset({"budget"}))
    assert kept["budget"] == 900 and "other" not in kept
