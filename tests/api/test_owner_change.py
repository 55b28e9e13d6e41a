"""A lead given to another owner (`PATCH /api/leads/{key}` with `owner`) while its hand-off
waits for its first touch: the hand-off follows, as a reassignment does, and the new owner is
told."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from standardwebhooks import Webhook

from leadflow.core.roles import Role
from leadflow.models.assignment import Assignment
from leadflow.models.lead import Lead
from leadflow.models.outbox import Notification, OutboxMessage
from leadflow.models.rep import Rep
from leadflow.models.user import User
from leadflow.services import users
from tests.api.conftest import bearer
from tests.api.test_handoff import Receiver, demo_request, receiver, run_worker, secret

__all__ = ["receiver", "secret"]
LEE = "lee@contoso-mfg.com"  # a demo request from a target account: Ana's or Ben's


def test_a_new_owner_takes_the_waiting_hand_off_with_a_deadline_of_their_own(
    app: FastAPI,
    client: TestClient,
    make_key: Callable[[Role], str],
    receiver: Receiver,
    secret: str,
) -> None:
    # Before: the lead's owner changed and nothing else: the hand-off kept the first rep and
    # their deadline (the new owner's queue counted it down, the ladder would have reminded
    # and escalated to the first rep), and the new owner was told nothing.
    with app.state.sessions() as session, session.begin():
        users.create_user(session, email="cy@flowline.io", name="Cy", role="rep",
                          password="correct-horse-battery", now=datetime.now(UTC))  # fmt: skip
    demo_request(client, make_key(Role.INGEST), LEE)
    with app.state.sessions() as session:
        first = session.scalars(select(Lead.owner)).one()
        cy = session.scalars(select(Rep.id).where(Rep.email == "cy@flowline.io")).one()
    before = datetime.now(UTC)
    changed = client.patch(f"/api/leads/{LEE}", json={"owner": "Cy@flowline.io"},
                           headers=bearer(make_key(Role.MARKETING)))  # fmt: skip
    after = datetime.now(UTC)
    assert changed.status_code == 200, changed.text
    shown = changed.json()
    assert shown["owner"] == "cy@flowline.io"
    assignment = shown["assignment"]
    assert assignment["rep"]["email"] == "cy@flowline.io" and assignment["team"] == "inbound"
    assert assignment["reason"] == "reassigned by test marketing"
    assert assignment["sla_status"] == "open"
    due = datetime.fromisoformat(assignment["sla_due_at"]).replace(tzinfo=UTC)
    # A demo request: 5 working minutes from the change, in Cy's hours (always open here).
    assert before + timedelta(minutes=5) <= due <= after + timedelta(minutes=5)
    with app.state.sessions() as session:
        [stored] = session.scalars(select(Assignment)).all()
        assert stored.rep_id == cy
        [note] = session.scalars(select(Notification)).all()  # Cy's bell: the one with a user
    assert note.event_type == "lead.assigned"
    assert f"Reassigned from {first}: reassigned by test marketing" in note.body
    assert run_worker(app) > 0
    alerts = [Webhook(secret).verify(body, headers) for headers, body in receiver.got]
    [handed] = [a for a in alerts if a["type"] == "lead.assigned" and a["data"]["previous_owner"]]
    assert handed["data"]["previous_owner"] == first
    assert handed["data"]["assignee"]["email"] == "cy@flowline.io"
    assert handed["data"]["why"]["reason"] == "Demo requested: Demo Requested"


def test_an_owner_who_cannot_work_a_waiting_lead_is_refused_and_none_returns_it_to_the_team(
    app: FastAPI, client: TestClient, make_key: Callable[[Role], str], secret: str
) -> None:
    demo_request(client, make_key(Role.INGEST), LEE)
    marketing = bearer(make_key(Role.MARKETING))
    with app.state.sessions() as session:
        first = session.scalars(select(Lead.owner)).one()
        [waiting] = session.scalars(select(Assignment)).all()
    refused = client.patch(f"/api/leads/{LEE}", json={"owner": "crm-user-17"}, headers=marketing)
    assert refused.status_code == 422, refused.text
    [problem] = refused.json()["error"]["problems"]
    assert problem["field"] == "owner" and "not an active rep" in problem["message"]
    same = client.patch(f"/api/leads/{LEE}", json={"owner": first}, headers=marketing)
    assert same.status_code == 200 and same.json()["assignment"]["reason"] == waiting.reason
    released = client.patch(f"/api/leads/{LEE}", json={"owner": None}, headers=marketing)
    assert released.status_code == 200, released.text
    assert released.json()["owner"] is None
    back = released.json()["assignment"]
    assert back["rep"] is None and back["team"] == "enterprise"  # its team's queue again
    assert back["reason"] == "reassigned by test marketing"


def test_a_touched_hand_off_stays_as_it_was_and_any_owner_is_taken_without_one(
    app: FastAPI, client: TestClient, make_key: Callable[[Role], str], secret: str
) -> None:
    sales, marketing = bearer(make_key(Role.SALES)), bearer(make_key(Role.MARKETING))
    demo_request(client, make_key(Role.INGEST), LEE)
    touched = client.post(f"/api/leads/{LEE}/touches", json={"channel": "call"}, headers=sales)
    kept = touched.json()["assignment"]
    moved = client.patch(f"/api/leads/{LEE}", json={"owner": "cy@flowline.io"}, headers=marketing)
    assert moved.status_code == 200 and moved.json()["owner"] == "cy@flowline.io"
    assert moved.json()["assignment"] == kept  # the SLA was met by its rep: history now
    made = client.post("/api/leads", json={"email": "kai@unlisted-co.io", "owner": "crm-user-17"},
                       headers=marketing)  # fmt: skip
    assert made.status_code == 201 and made.json()["owner"] == "crm-user-17"  # not sales-ready


def test_the_previous_owner_is_told_in_the_app_who_has_the_lead_now_and_who_gave_it(
    app: FastAPI, client: TestClient, make_key: Callable[[Role], str], secret: str
) -> None:
    # Before: the new owner was alerted and the rep who lost the lead heard nothing.
    signed_in(app, "ana", "ben", "cy")
    demo_request(client, make_key(Role.INGEST), LEE)
    marketing = bearer(make_key(Role.MARKETING))
    with app.state.sessions() as session:
        first, lead = session.execute(select(Lead.owner, Lead.id)).one()
    assert first is not None
    given = client.patch(f"/api/leads/{LEE}", json={"owner": "cy@flowline.io"}, headers=marketing)
    released = client.patch(f"/api/leads/{LEE}", json={"owner": None}, headers=marketing)
    assert given.status_code == released.status_code == 200
    with app.state.sessions() as session:
        [told] = reassigned(session, first)
        [cy_told] = reassigned(session, "cy@flowline.io")
        kinds = set(session.scalars(select(OutboxMessage.target_kind).where(
            OutboxMessage.event_type == "lead.reassigned")))  # fmt: skip
    assert told.lead_id == lead and told.title.startswith("lead.reassigned: ")
    why = "Why: reassigned by test marketing"
    assert told.body.splitlines() == ["Now with: cy@flowline.io", why]
    assert cy_told.body.splitlines()[0] == "Now with: the team queue"
    assert kinds == {"inapp"}  # in the app only: no webhook or chat channel takes it


def test_a_settled_lead_given_to_another_tells_its_previous_owner_too(
    app: FastAPI, client: TestClient, make_key: Callable[[Role], str], secret: str
) -> None:
    signed_in(app, "ana", "ben")
    demo_request(client, make_key(Role.INGEST), LEE)
    sales, marketing = bearer(make_key(Role.SALES)), bearer(make_key(Role.MARKETING))
    with app.state.sessions() as session:
        first = session.scalars(select(Lead.owner)).one()
    assert first is not None
    client.post(f"/api/leads/{LEE}/touches", json={"channel": "call"}, headers=sales)
    moved = client.patch(f"/api/leads/{LEE}", json={"owner": "crm-user-17"}, headers=marketing)
    assert moved.status_code == 200 and moved.json()["owner"] == "crm-user-17"
    with app.state.sessions() as session:
        [told] = reassigned(session, first)
    assert told.body.splitlines()[0] == "Now with: crm-user-17"


def test_nobody_is_told_when_the_owner_stays_or_the_previous_one_has_no_sign_in(
    app: FastAPI, client: TestClient, make_key: Callable[[Role], str], secret: str
) -> None:
    signed_in(app, "cy")  # Ana and Ben, whom the demo request goes to, never sign in
    demo_request(client, make_key(Role.INGEST), LEE)
    marketing = bearer(make_key(Role.MARKETING))
    with app.state.sessions() as session:
        first = session.scalars(select(Lead.owner)).one()
    for owner in (first, "cy@flowline.io", "cy@flowline.io"):  # the same, a rep without, the same
        patched = client.patch(f"/api/leads/{LEE}", json={"owner": owner}, headers=marketing)
        assert patched.status_code == 200, patched.text
    made = client.post("/api/leads", json={"email": "kai@unlisted-co.io", "owner": "crm-user-17"},
                       headers=marketing)  # fmt: skip
    assert made.status_code == 201
    for owner in ("crm-user-17", "cy@flowline.io"):  # the same, then from someone no rep
        patched = client.patch("/api/leads/kai@unlisted-co.io", json={"owner": owner},
                               headers=marketing)  # fmt: skip
        assert patched.status_code == 200, patched.text
    with app.state.sessions() as session:
        told = session.scalars(select(Notification).where(
            Notification.event_type == "lead.reassigned")).all()  # fmt: skip
        assert told == []
        assert [n.event_type for n in session.scalars(select(Notification))] == ["lead.assigned"]


def signed_in(app: FastAPI, *names: str) -> None:
    """Users for these reps (`name@flowline.io`): their bells ring."""
    with app.state.sessions() as session, session.begin():
        for name in names:
            users.create_user(session, email=f"{name}@flowline.io", name=name.title(),
                              role="rep", password="correct-horse-battery",
                              now=datetime.now(UTC))  # fmt: skip


def bell(session: Session, email: str) -> list[Notification]:
    """This person's notifications, oldest first."""
    query = (
        select(Notification)
        .join(User, User.id == Notification.user_id)
        .where(User.email == email)
        .order_by(Notification.id)
    )
    return list(session.scalars(query))


def reassigned(session: Session, email: str) -> list[Notification]:
    """This person's notifications that a lead of theirs went to someone else."""
    return [n for n in bell(session, email) if n.event_type == "lead.reassigned"]
