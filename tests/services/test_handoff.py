"""The hand-off of many leads at once (a bulk pass: import, rescore, playbook apply): each is
routed as one at a time would be, its alert carries its own assignment, and the pass writes
its assignments, outbox rows and notifications together, not one round of writes per lead."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadflow.core.playbook_text import parse_playbook
from leadflow.models import Assignment, Event, Lead
from leadflow.models.outbox import Notification, OutboxMessage
from leadflow.models.user import User
from leadflow.services import pipeline, reps
from tests.repositories.statements import starting, statements_run

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # a Monday, within everyone's working hours
ALWAYS = "mon-sun 00:00-24:00"
BOOK = parse_playbook("""
name: Hand raisers
engagement:
  rules:
    - {id: demo, label: Demo, points: 40, decay: false, event: {type: track, name: Demo Requested}}
lifecycle:
  lead: {field: email, exists: true}
  hand_raisers:
    - {label: Demo requested, stage: sql, event: {type: track, name: Demo Requested}}
  sales_ready: [sql]
routing: {fallback: inbound}
sla:
  targets:
    - {stage: sql, hand_raiser: true, minutes: 5}
""")
LEADS = 7


def _reps(session: Session) -> list[str]:
    emails = [f"rep{k}@flowline.io" for k in range(3)]
    for email in emails:
        fields = {"email": email, "name": email[:4], "team": "inbound", "working_hours": ALWAYS,
                  "timezone": "UTC"}  # fmt: skip
        rep = reps.add_rep(session, fields, now=NOW - timedelta(days=30))
        session.add(User(email=rep.email, name=rep.name, role="rep", password_hash="-"))
    return emails


def _hand_raisers(session: Session) -> list[Lead]:
    leads = [Lead(email=f"lead{k}@acme.com", attributes={}) for k in range(LEADS)]
    session.add_all(leads)
    session.flush()
    for lead in leads:
        at = NOW - timedelta(minutes=3)
        session.add(Event(lead_id=lead.id, type="track", name="Demo Requested", occurred_at=at,
                          received_at=at, source="test", message_id=f"m{lead.id}",
                          properties={}, context={}))  # fmt: skip
    session.flush()
    return leads


def test_a_bulk_pass_hands_off_each_lead_as_one_at_a_time_would(session: Session) -> None:
    emails = _reps(session)
    leads = _hand_raisers(session)
    with statements_run(session) as seen:
        pipeline.run_bulk(session, BOOK, NOW, cause="rescore", actor="rescore")
    made = session.scalars(select(Assignment).order_by(Assignment.id)).all()
    assert [a.lead_id for a in made] == [lead.id for lead in leads]
    # Each routing decision counted in the loads the next one saw: turn by turn.
    by_id = {r.id: r.email for r in reps.rep_repo.list_all(session)}
    assert [by_id[a.rep_id] for a in made if a.rep_id] == [emails[k % 3] for k in range(LEADS)]
    assert Counter(a.sla_due_at for a in made) == {NOW + timedelta(minutes=5): LEADS}
    assert all("round-robin" in a.reason or "inbound" in a.reason for a in made), made[0].reason
    # Every alert tells of its own lead's assignment, to that lead's rep.
    outbox = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    ready = [m for m in outbox if m.event_type == "lead.sales_ready"]
    assert len(ready) == LEADS
    for message in ready:
        data = message.payload["data"]
        mine = next(a for a in made if a.lead_id == data["lead"]["id"])
        assert data["assignment_id"] == mine.id
        assert data["assignee"]["email"] == by_id[mine.rep_id]
    users = {u.id: u.email for u in session.scalars(select(User))}
    rung = session.scalars(select(Notification).order_by(Notification.id)).all()
    assert [users[n.user_id] for n in rung] == [by_id[a.rep_id] for a in made]
    # The pass's alerts are written together: one statement, however many leads it handed
    # off; so are its assignments where the database can tell each its new id in one
    # statement (PostgreSQL; SQLite's INSERT ... RETURNING cannot keep their order).
    inserts = Counter(s.split()[2] for s in starting(seen, "INSERT INTO"))
    one_each = session.get_bind().dialect.name == "postgresql"
    assert inserts["assignments"] == (1 if one_each else LEADS)
    assert (inserts["outbox"], inserts["notifications"]) == (1, 1)
