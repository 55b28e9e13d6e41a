"""The hand-off end to end: a demo request -> SQL -> a rep -> a signed alert, exactly once."""

from __future__ import annotations

import base64
import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event, select
from sqlalchemy.orm import Session
from standardwebhooks import Webhook

from leadflow.core.handoff_rules import EscalationStep
from leadflow.core.roles import Role
from leadflow.models.assignment import Assignment
from leadflow.models.goal import SharedChannel
from leadflow.models.lead import Lead
from leadflow.models.outbox import Notification, OutboxMessage
from leadflow.models.user import User
from leadflow.services import access, digest, playbooks, reps, sla, users, webhooks
from leadflow.worker import Worker
from tests.api.conftest import bearer

ALWAYS = "mon-sun 00:00-24:00"


class Receiver:
    """A local webhook receiver that keeps what it got and answers with `status`."""

    def __init__(self) -> None:
        self.got: list[tuple[dict[str, str], bytes]] = []
        self.chat: list[dict[str, Any]] = []  # what Apprise's json:// channel posted to /chat
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                if self.path == "/chat":
                    receiver.chat.append(json.loads(body))
                else:
                    receiver.got.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def ids(self) -> list[str]:
        return [headers["webhook-id"] for headers, _ in self.got]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.server.shutdown()


@pytest.fixture
def secret(app: FastAPI, receiver: Receiver) -> str:
    """Reps on the demo's teams and a webhook endpoint at the receiver."""
    now = datetime.now(UTC)
    with app.state.sessions() as session, session.begin():
        team_of = {"ana": "enterprise", "ben": "enterprise", "cy": "inbound", "max": "managers"}
        for email, team in ((f"{name}@flowline.io", team) for name, team in team_of.items()):
            fields = {"email": email, "name": email.split("@")[0].title(), "team": team}
            fields.update(working_hours=ALWAYS, manager_email="max@flowline.io")
            reps.add_rep(session, fields, now=now)
        return webhooks.add_endpoint(session, receiver.url, None, now=now).secret


def demo_request(client: TestClient, key: str, email: str, visit: int = 1) -> None:
    auth = {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}
    batch = {"batch": [
        {"type": "identify", "userId": email, "traits": {"email": email, "title": "VP Operations",
         "company": {"name": "Northwind", "employees": 300, "industry": "Logistics"}}},
        {"type": "page", "userId": email, "properties": {"path": "/pricing"}},
        {"type": "track", "userId": email, "event": "Demo Requested",
         "messageId": f"{email}-{visit}"},
    ]}  # fmt: skip
    assert client.post("/v1/batch", json=batch, headers=auth).status_code == 200


def run_worker(app: FastAPI) -> int:
    with httpx.Client() as http:
        return Worker(app.state.sessions).run_once(http, sweep=False)


def test_a_demo_request_reaches_the_right_rep_with_a_signed_alert(
    app: FastAPI,
    client: TestClient,
    make_key: Callable[[Role], str],
    receiver: Receiver,
    secret: str,
) -> None:
    demo_request(client, make_key(Role.INGEST), "olivia@northwind-logistics.com")
    with app.state.sessions() as session:
        lead = session.scalar(select(Lead).where(Lead.email == "olivia@northwind-logistics.com"))
        assert lead is not None and lead.stage == "sql"
        assignment = session.scalar(select(Assignment).where(Assignment.lead_id == lead.id))
        assert assignment is not None and assignment.team == "enterprise"
        assert "rule named_accounts" in assignment.reason
        assert assignment.hand_raiser and assignment.sla_due_at is not None
        minutes = (assignment.sla_due_at - assignment.assigned_at).total_seconds() / 60
        assert minutes == pytest.approx(5)  # a demo request: 5 working minutes
        assert lead.owner in ("ana@flowline.io", "ben@flowline.io")
    assert receiver.got == []  # nothing is sent before the worker runs (after the commit)

    assert run_worker(app) == 2  # lead.sales_ready and lead.assigned
    alerts = {}
    for headers, body in receiver.got:
        alert = Webhook(secret).verify(body, headers)  # raises unless the signature is right
        assert headers["webhook-id"] == alert["id"]
        alerts[alert["type"]] = alert
    assert set(alerts) == {"lead.sales_ready", "lead.assigned"}
    alert = alerts["lead.sales_ready"]
    data = alert["data"]
    assert data["lead"]["email"] == "olivia@northwind-logistics.com"
    assert data["lead"]["tier"] == "top" and data["lead"]["persona"]["talking_points"]
    assert data["assignee"]["email"] == lead.owner
    assert data["why"]["reason"] == "Demo requested: Demo Requested"
    assert data["why"]["top_contributions"][0]["points"] > 0
    assert "Demo Requested" in [e["name"] for e in data["why"]["tipped_by"]]
    assert [a["name"] for a in data["recent_activity"]][:1] == ["Demo Requested"]
    assert data["sla_due_at"] == assignment.sla_due_at.isoformat()

    assert run_worker(app) == 0  # delivered once; a second pass sends nothing
    assert len(receiver.got) == 2


def test_an_alert_quotes_the_teams_notes_never_a_note_sent_with_the_write_key(
    app: FastAPI,
    client: TestClient,
    make_key: Callable[[Role], str],
    receiver: Receiver,
    secret: str,
) -> None:
    ingest, email = make_key(Role.INGEST), "olivia@northwind-logistics.com"
    auth = {"Authorization": "Basic " + base64.b64encode(f"{ingest}:".encode()).decode()}
    marketing = bearer(make_key(Role.MARKETING))
    identify = {"userId": email, "traits": {"email": email}}
    assert client.post("/v1/identify", json=identify, headers=auth).status_code == 200
    note = {"text": "Budget opens in Q3"}
    assert client.post(f"/api/leads/{email}/notes", json=note, headers=marketing).is_success
    # Anybody holding the public write key can name an event "Note Added" and say who wrote it.
    said = {"text": "Wire the deposit to IBAN XX00 0000", "actor": "max"}
    forged = {"userId": email, "event": "Note Added", "properties": said}
    assert client.post("/v1/track", json=forged, headers=auth).status_code == 200
    demo_request(client, ingest, email)
    assert run_worker(app) == 2
    for _, body in receiver.got:
        assert json.loads(body)["data"]["notes"] == ["Budget opens in Q3"]
    shown = client.get(f"/api/leads/{email}", headers=marketing).json()["events"]
    sources = {e["properties"].get("text"): e["source"] for e in shown if e["name"] == "Note Added"}
    assert sources["Budget opens in Q3"] == "note"  # what the team wrote, told apart
    assert sources["Wire the deposit to IBAN XX00 0000"] != "note"


def test_the_rep_is_told_on_their_apprise_channel_and_so_is_their_manager(
    app: FastAPI,
    client: TestClient,
    make_key: Callable[[Role], str],
    receiver: Receiver,
    secret: str,
) -> None:
    chat = receiver.url.replace("http://", "json://").replace("/hooks", "/chat")
    with app.state.sessions() as session, session.begin():
        for rep in reps.list_reps(session):
            if rep.email in ("cy@flowline.io", "max@flowline.io"):
                reps.update_rep(session, rep.id, {"channels": [chat]})
    demo_request(client, make_key(Role.INGEST), "sam@unlisted-co.io")  # no rule: inbound, Cy
    assert run_worker(app) == 3  # Cy's channel, and the webhook twice
    [told] = receiver.chat
    assert told["title"].startswith("lead.sales_ready: sam@unlisted-co.io")
    assert "Why: Demo requested" in told["message"] and "Due: " in told["message"]
    with app.state.sessions() as session, session.begin():
        [assignment] = session.scalars(select(Assignment)).all()
        now = datetime.now(UTC)
        assignment.sla_due_at = now - timedelta(minutes=31)  # as if half an hour had passed
        sla.sweep(session, playbooks.active_playbook(session), now)
    assert run_worker(app) > 0
    titles = [message["title"] for message in receiver.chat[1:]]
    assert titles[0].startswith("sla.breached: sam@unlisted-co.io (31.0 minutes past the SLA")
    assert sum(title.startswith("sla.escalated: sam@unlisted-co.io") for title in titles) == 2
    escalations = [m["message"] for m in receiver.chat if "Escalation:" in m["message"]]
    assert any("Escalation: manager" in text for text in escalations)


def test_a_receiver_that_is_down_gets_the_same_alert_later(
    app: FastAPI,
    client: TestClient,
    make_key: Callable[[Role], str],
    receiver: Receiver,
    secret: str,
) -> None:
    receiver.status = 503
    demo_request(client, make_key(Role.INGEST), "pat@tailspin-freight.com")
    assert run_worker(app) == 0
    with app.state.sessions() as session, session.begin():
        messages = session.scalars(select(OutboxMessage)).all()
        for message in messages:
            assert message.attempts == 1 and message.last_error == "HTTP 503"
            assert message.next_attempt_at > datetime.now(UTC)  # backing off
            message.next_attempt_at = datetime.now(UTC)  # as if the back-off had passed
    receiver.status = 200
    assert run_worker(app) == len(messages) == 2
    ids = receiver.ids()
    assert sorted(ids[:2]) == sorted(ids[2:])  # the same ids on every try: receivers dedupe


def test_an_untouched_lead_breaches_and_escalates_on_time(
    app: FastAPI, client: TestClient, make_key: Callable[[Role], str], secret: str
) -> None:
    demo_request(client, make_key(Role.INGEST), "lee@contoso-mfg.com")
    with app.state.sessions() as session, session.begin():
        book = playbooks.active_playbook(session)
        [assignment] = session.scalars(select(Assignment)).all()
        due = assignment.sla_due_at
        assert due is not None
        assert sla.sweep(session, book, due - timedelta(seconds=1)) == 0  # not yet
        assert sla.sweep(session, book, due + timedelta(minutes=1)) == 1
        assert (assignment.status, assignment.escalation_level) == ("breached", 1)  # remind
        sla.sweep(session, book, due + timedelta(minutes=31))
        assert assignment.escalation_level == 2  # the manager is told
        owner = assignment.rep_id
        sla.sweep(session, book, due + timedelta(minutes=121))
        assert assignment.escalation_level == 3 and assignment.rep_id != owner  # reassigned
        assert assignment.team == "enterprise"  # by the same rules: the other enterprise rep
        kinds = [m.event_type for m in session.scalars(select(OutboxMessage))]
        assert kinds.count("sla.breached") == 1 and kinds.count("sla.escalated") == 3


def test_a_reassigned_lead_is_due_by_its_new_reps_deadline(
    app: FastAPI, client: TestClient, make_key: Callable[[Role], str], secret: str
) -> None:
    demo_request(client, make_key(Role.INGEST), "lee@contoso-mfg.com")
    with app.state.sessions() as session, session.begin():
        book = playbooks.active_playbook(session)
        [assignment] = session.scalars(select(Assignment)).all()
        first, due = assignment.rep_id, assignment.sla_due_at
        assert due is not None
        moved_at = due + timedelta(minutes=121)
        sla.sweep(session, book, moved_at)  # breached, reminded, the manager told, reassigned
        assert assignment.rep_id != first and assignment.escalation_level == 3
        # A demo request: 5 working minutes, counted from the reassignment in the new rep's
        # hours (always open here), not the deadline the first rep let pass.
        assert assignment.sla_due_at == moved_at + timedelta(minutes=5)
        lead = session.get(Lead, assignment.lead_id)
        assert lead is not None and lead.owner is not None
        new_rep = User(email=lead.owner, name="new", role="rep", password_hash="x")
        [row] = access.queue(session, access.Actor.person(new_rep), book, moved_at)
        assert row["minutes_left"] == 5  # the queue's countdown, not 121 minutes late
        sla.touch(session, lead.id, moved_at + timedelta(minutes=1))
        assert assignment.status == "breached"  # in time for the new rep; the SLA was missed
    shown = client.get("/api/leads/lee@contoso-mfg.com", headers=bearer(make_key(Role.SALES)))
    due_shown = datetime.fromisoformat(shown.json()["assignment"]["sla_due_at"])
    assert due_shown.replace(tzinfo=due_shown.tzinfo or UTC) == moved_at + timedelta(minutes=5)


def test_the_ladders_steps_after_a_reassignment_count_from_the_new_deadline(
    app: FastAPI, client: TestClient, make_key: Callable[[Role], str], secret: str
) -> None:
    # Before: a sweep that reached the reassignment (a worker back after a while) went on up
    # the ladder with the first deadline's lateness, so the step after it fired at once,
    # with the new rep's deadline still ahead, and told the first rep's manager.
    demo_request(client, make_key(Role.INGEST), "lee@contoso-mfg.com")
    with app.state.sessions() as session, session.begin():
        active = playbooks.active_playbook(session)
        ladder = [
            EscalationStep(after_minutes=0, action="remind"),
            EscalationStep(after_minutes=60, action="reassign"),
            EscalationStep(after_minutes=90, action="manager"),
        ]
        book = active.model_copy(
            update={"sla": active.sla.model_copy(update={"escalation": ladder})}
        )
        [assignment] = session.scalars(select(Assignment)).all()
        first, due = assignment.rep_id, assignment.sla_due_at
        assert due is not None
        moved_at = due + timedelta(minutes=121)
        sla.sweep(session, book, moved_at)  # breached, reminded, reassigned: and no further
        assert assignment.rep_id != first and assignment.escalation_level == 2
        new_due = assignment.sla_due_at
        assert new_due == moved_at + timedelta(minutes=5)
        assert sla.sweep(session, book, new_due + timedelta(minutes=89)) == 0
        assert assignment.escalation_level == 2
        assert sla.sweep(session, book, new_due + timedelta(minutes=90)) == 1
        assert assignment.escalation_level == 3
        [*_, told] = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        assert told.event_type == "sla.escalated"
        assert told.payload["data"]["action"] == "manager"


def overdue_by(app: FastAPI, minutes: int) -> datetime:
    """Sweep the only hand-off as if its deadline had passed `minutes` ago; the sweep's now
    (the real clock, so the worker sends what it queued at once)."""
    now = datetime.now(UTC)
    with app.state.sessions() as session, session.begin():
        [assignment] = session.scalars(select(Assignment)).all()
        assignment.sla_due_at = now - timedelta(minutes=minutes)
        sla.sweep(session, playbooks.active_playbook(session), now)
    return now


def test_a_reassigned_lead_tells_its_new_rep_as_a_hand_off_does(
    app: FastAPI,
    client: TestClient,
    make_key: Callable[[Role], str],
    receiver: Receiver,
    secret: str,
) -> None:
    # Before: the reassignment made the new rep the owner and told nobody but the rep who
    # lost the lead: no alert on the new rep's channels, no bell, no webhook of the change.
    with app.state.sessions() as session, session.begin():
        for name, role in (("ana", "rep"), ("ben", "rep"), ("max", "manager")):
            users.create_user(session, email=f"{name}@flowline.io", name=name.title(),
                              role=role, password="correct-horse-battery",
                              now=datetime.now(UTC))  # fmt: skip
    demo_request(client, make_key(Role.INGEST), "lee@contoso-mfg.com")
    with app.state.sessions() as session:
        first = session.scalars(select(Lead.owner)).one()
    overdue_by(app, 31)  # breached, the rep reminded, the manager told
    moved_at = overdue_by(app, 121)  # reassigned
    with app.state.sessions() as session:
        new = session.scalars(select(Lead.owner)).one()
        assert new is not None and new != first
        told = {
            user.email: [n.event_type for n in session.scalars(
                select(Notification).where(Notification.user_id == user.id)
                .order_by(Notification.id))]
            for user in session.scalars(select(User))
        }  # fmt: skip
        [note] = session.scalars(select(Notification).where(Notification.event_type
                                                            == "lead.assigned")).all()  # fmt: skip
    assert told[new] == ["lead.assigned"]
    assert told[first] == ["lead.sales_ready", "sla.breached", "sla.escalated", "sla.escalated"]
    assert told["max@flowline.io"] == ["sla.escalated"]  # the ladder's manager step, as before
    assert note.title.startswith("lead.assigned: ")
    due = moved_at + timedelta(minutes=5)  # the new rep's own deadline
    assert f"Due: {due:%Y-%m-%d %H:%M} UTC" in note.body and "Why: Demo requested" in note.body
    assert f"Reassigned from {first}: reassigned after the SLA passed" in note.body
    assert run_worker(app) > 0
    alerts = [Webhook(secret).verify(body, headers) for headers, body in receiver.got]
    [handed] = [a for a in alerts if a["type"] == "lead.assigned" and a["data"]["previous_owner"]]
    data = handed["data"]
    assert data["assignee"]["email"] == new and data["previous_owner"] == first
    assert data["lead"]["email"] == "lee@contoso-mfg.com" and data["lead"]["stage"] == "sql"
    assert data["assignment_reason"].startswith("reassigned after the SLA passed: ")
    assert data["why"]["reason"] == "Demo requested: Demo Requested"
    assert data["why"]["top_contributions"][0]["points"] > 0
    assert datetime.fromisoformat(data["sla_due_at"]) == due
    [escalated] = [a for a in alerts if a["type"] == "sla.escalated"
                   and a["data"]["action"] == "reassign"]  # fmt: skip
    assert escalated["data"]["reassigned_to"] == new  # the rep who lost it learns who has it


def test_a_rolled_back_stage_change_sends_nothing(
    app: FastAPI, client: TestClient, make_key: Callable[[Role], str], secret: str
) -> None:
    bad = {"email": "x@globex.com", "name": "Demo Requested", "timestamp": "not a time"}
    response = client.post(
        "/api/events",
        json={"events": [{"email": "x@globex.com", "name": "Demo Requested"}, bad]},
        headers={"Authorization": f"Bearer {make_key(Role.MARKETING)}"},
    )
    assert response.status_code == 422
    with app.state.sessions() as session:
        assert session.scalars(select(OutboxMessage)).all() == []


def test_two_workers_at_once_send_each_alert_once(
    app: FastAPI,
    client: TestClient,
    make_key: Callable[[Role], str],
    receiver: Receiver,
    secret: str,
) -> None:
    key = make_key(Role.INGEST)
    for k in range(8):
        demo_request(client, key, f"buyer{k}@fabrikam.io")
    workers = [threading.Thread(target=run_worker, args=(app,)) for _ in range(2)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    ids = receiver.ids()
    assert len(ids) == 16 and len(set(ids)) == 16  # 8 leads x (sales_ready, assigned), once each
    payloads = [json.loads(body) for _, body in receiver.got]
    emails = {p["data"]["lead"]["email"] for p in payloads if p["type"] == "lead.sales_ready"}
    assert emails == {f"buyer{k}@fabrikam.io" for k in range(8)}


def test_a_touch_meets_the_sla_and_a_recycled_lead_can_qualify_again(
    app: FastAPI, client: TestClient, make_key: Callable[[Role], str], secret: str
) -> None:
    ingest, email = make_key(Role.INGEST), "kai@litware.io"
    sales = {"Authorization": f"Bearer {make_key(Role.SALES)}"}
    marketing = {"Authorization": f"Bearer {make_key(Role.MARKETING)}"}
    demo_request(client, ingest, email)
    touch = {"channel": "call", "questions": ["Do you support SSO?"], "objections": ["price"]}
    touched = client.post(f"/api/leads/{email}/touches", json=touch, headers=sales)
    assert touched.status_code == 200, touched.text
    assert touched.json()["touch"]["sla_status"] == "met"
    assert touched.json()["assignment"]["sla_status"] == "met"
    # A later touch tells the hand-off's status too (it said null: no open hand-off).
    again = client.post(f"/api/leads/{email}/touches", json={"channel": "email"}, headers=sales)
    assert again.status_code == 200 and again.json()["touch"]["sla_status"] == "met", again.text
    note = client.post(
        f"/api/leads/{email}/notes", json={"text": "Budget opens in Q3"}, headers=marketing
    )
    assert note.status_code == 201
    assert note.json()["events"][0]["properties"]["text"] == "Budget opens in Q3"
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    recycle = {"action": "recycle", "reason": "no budget", "reengage_on": yesterday}
    refused = client.post(f"/api/leads/{email}/actions", json=recycle, headers=sales)
    assert refused.status_code == 422, refused.text
    assert f"reengage_on: {yesterday} is in the past" in refused.json()["error"]["message"]
    today = datetime.now(UTC).date().isoformat()
    recycle["reengage_on"] = today
    recycled = client.post(f"/api/leads/{email}/actions", json=recycle, headers=sales)
    assert recycled.status_code == 200 and recycled.json()["stage"] == "nurture"
    assert recycled.json()["recycle_until"].startswith(today)
    demo_request(client, ingest, email, visit=2)  # the re-engage day has come: qualifies again
    again = client.get(f"/api/leads/{email}", headers=sales).json()
    assert again["stage"] == "sql"
    moves = [(h["from"], h["to"]) for h in again["stage_history"]]
    assert moves[-2:] == [("sql", "nurture"), ("nurture", "sql")]
    assert again["assignment"]["sla_status"] == "open"  # a new hand-off with a new deadline
    assert again["recycles"] == 1
    report = client.get("/api/sla", headers=sales).json()
    assert (report["sales"]["handoffs"], report["sales"]["met"], report["sales"]["open"]) == (
        2,
        1,
        1,
    )
    assert report["sales"]["recycled"] == 1 and report["sales"]["disqualified"] == 0
    assert report["marketing"]["commitment"] == 200


def test_reps_and_webhooks_through_the_api(
    client: TestClient, make_key: Callable[[Role], str]
) -> None:
    admin = {"Authorization": f"Bearer {make_key(Role.ADMIN)}"}
    sales = {"Authorization": f"Bearer {make_key(Role.SALES)}"}
    rep = {"email": "Di@flowline.io", "name": "Di", "team": "smb", "timezone": "America/Chicago"}
    created = client.post("/api/reps", json=rep, headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["email"] == "di@flowline.io"
    assert client.post("/api/reps", json=rep, headers=admin).status_code == 409
    assert client.post("/api/reps", json=rep, headers=sales).status_code == 403
    bad = client.post(
        "/api/reps", json={**rep, "email": "x@y.io", "channels": ["nope"]}, headers=admin
    )
    assert bad.status_code == 422 and "Apprise" in bad.json()["error"]["message"]
    away = client.patch(
        f"/api/reps/{created.json()['id']}",
        json={"capacity": 5, "timezone": "Moon/Base"},
        headers=admin,
    )
    assert away.status_code == 422 and "time zone" in away.json()["error"]["message"]
    rep_path = f"/api/reps/{created.json()['id']}"
    moved = client.patch(rep_path, json={"team": "enterprise", "territories": ["DE"]},
                         headers=admin)  # fmt: skip
    assert moved.status_code == 200, moved.text
    assert (moved.json()["team"], moved.json()["territories"]) == ("enterprise", ["DE"])
    for bad_team in ({"team": None}, {"team": ""}, {"name": None}):
        refused = client.patch(rep_path, json=bad_team, headers=admin)
        assert refused.status_code == 422, (bad_team, refused.text)
    assert [r["email"] for r in client.get("/api/reps", headers=sales).json()] == ["di@flowline.io"]
    assert created.json()["notes"] == [] and moved.json()["notes"] == []
    # A team no routing rule sends leads to (a typo) is taken, with a note, as on the command line.
    typo = client.post("/api/reps", json={**rep, "email": "e@y.io", "team": "smbb"}, headers=admin)
    assert typo.status_code == 201 and "team 'smbb'" in typo.json()["notes"][0]
    hook = client.post("/api/webhooks", json={"url": "https://x.example/h"}, headers=admin).json()
    assert hook["secret"].startswith("whsec_")
    listed = client.get("/api/webhooks", headers=admin).json()
    assert listed[0]["url"] == "https://x.example/h" and "secret" not in listed[0]
    assert client.post("/api/webhooks", json={"url": "x"}, headers=admin).status_code == 422
    assert client.post("/api/webhooks/replay/alert_nope", headers=admin).status_code == 404


def test_the_worker_re_scores_aged_leads(
    app: FastAPI, client: TestClient, make_key: Callable[[Role], str]
) -> None:
    marketing = {"Authorization": f"Bearer {make_key(Role.MARKETING)}"}
    long_ago = (datetime.now(UTC) - timedelta(days=60)).isoformat()
    event = {"email": "old@acme.io", "name": "Webinar Attended", "timestamp": long_ago}
    assert (
        client.post("/api/events", json={"events": [event]}, headers=marketing).status_code == 200
    )
    with app.state.sessions() as session, session.begin():
        lead = session.scalar(select(Lead).where(Lead.email == "old@acme.io"))
        assert lead is not None and lead.engagement == 3.75  # 15 points, two half-lives old
        lead.engagement, lead.scored_at = 15.0, datetime.now(UTC) - timedelta(hours=2)  # stale
    assert Worker(app.state.sessions).decay() == 1
    with app.state.sessions() as session:
        lead = session.scalar(select(Lead).where(Lead.email == "old@acme.io"))
        assert lead is not None and lead.engagement == 3.75
        assert lead.scored_at is not None and lead.scored_at > datetime.now(UTC) - timedelta(
            minutes=1
        )


def test_a_server_killed_before_delivery_still_delivers_once(
    database_url: str, receiver: Receiver, tmp_path: Any
) -> None:
    """The stage change commits, the server dies (SIGKILL), a worker started later delivers.

    `leadflow init`, the server and the workers are processes of their own; the commands that
    only set up (a rep, a webhook, a key) run in this process (typer's runner: the same
    commands, without 3 s of imports each)."""
    import os
    import signal
    import socket
    import subprocess
    import sys
    import time
    from pathlib import Path

    from typer.testing import CliRunner

    from leadflow.cli.main import app as leadflow_app

    leadflow = str(Path(sys.executable).with_name("leadflow"))
    env = {**os.environ, "LEADFLOW_DATABASE_URL": database_url}
    examples = Path(__file__).resolve().parents[2] / "examples"

    def cli(*args: str) -> str:
        done = subprocess.run([leadflow, *args], env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip().splitlines()[-1]

    def cli_here(*args: str) -> str:
        done = CliRunner().invoke(leadflow_app, ["--db", database_url, *args])
        assert done.exit_code == 0, done.output
        return done.stdout.strip().splitlines()[-1]

    cli("init", "--playbook", str(examples / "b2b_saas.yaml"))
    cli_here("reps", "add", "ana@flowline.io", "--name", "Ana", "--team", "inbound",
             "--hours", ALWAYS)  # fmt: skip
    secret = cli_here("webhooks", "add", receiver.url, "--events", "lead.sales_ready")
    key = cli_here("keys", "create", "--role", "ingest")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [leadflow, "serve", "--port", str(port), "--no-worker", "--log-level", "warning"],
        env=env,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(150):
            try:
                if httpx.get(f"{url}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        track = {"userId": "ida@globex.com", "event": "Demo Requested", "messageId": "d1"}
        assert httpx.post(f"{url}/v1/track", json=track, auth=(key, "")).status_code == 200
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=10)
    assert receiver.got == []  # the server died before any delivery
    assert cli("worker", "--once") == "delivered 1 message"
    assert cli("worker", "--once") == "delivered 0 messages"
    [(headers, body)] = receiver.got
    alert = Webhook(secret).verify(body, headers)
    assert alert["data"]["lead"]["email"] == "ida@globex.com"


def test_the_worker_queues_a_digest_when_its_time_comes(app: FastAPI, secret: str) -> None:
    with app.state.sessions() as session, session.begin():
        now = datetime.now(UTC)
        channel = digest.add_channel(session, "digest", "json://127.0.0.1:9/huddle",
                                     schedule="daily 08:00", zone="UTC", now=now)  # fmt: skip
        channel.next_run_at = now - timedelta(minutes=1)  # as if 08:00 had just passed
    Worker(app.state.sessions).sweep()
    with app.state.sessions() as session:
        kinds = [(m.event_type, m.target_kind) for m in session.scalars(select(OutboxMessage))]
        assert ("report.digest", "apprise") in kinds
        [saved] = session.scalars(select(SharedChannel)).all()
        assert saved.next_run_at is not None and saved.next_run_at > datetime.now(UTC)


@contextlib.contextmanager
def running(worker: Worker, settle: float) -> Iterator[Worker]:
    """The worker running in a thread, as in the server, for `settle` seconds first."""
    worker.start_thread()
    try:
        time.sleep(settle)
        yield worker
    finally:
        worker.stop.set()
        worker.wake.set()


def polling_hourly(app: FastAPI) -> contextlib.AbstractContextManager[Worker]:
    """A running worker that looks for due messages only hourly, its first pass done: anything
    it sends meanwhile it was woken for."""
    return running(Worker(app.state.sessions, interval=3600), settle=1)


def alert_types(receiver: Receiver, within: float) -> list[str]:
    """The types of the alerts received once two have come (or `within` seconds passed)."""
    deadline = time.monotonic() + within
    while len(receiver.got) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    return sorted(json.loads(body)["type"] for _, body in receiver.got)


def test_a_running_worker_sends_an_alert_as_soon_as_it_commits(
    app: FastAPI,
    client: TestClient,
    make_key: Callable[[Role], str],
    receiver: Receiver,
    secret: str,
) -> None:
    # Before: the worker in the server looked at the outbox only on its next poll, so every
    # alert waited up to a poll interval (50 ms by default; here an hour) after its commit.
    with polling_hourly(app):
        demo_request(client, make_key(Role.INGEST), "lin@northwind-logistics.com")
        got = alert_types(receiver, within=20)
    assert got == ["lead.assigned", "lead.sales_ready"]


def test_the_worker_sends_an_alert_while_another_writer_holds_the_lock(
    app: FastAPI,
    client: TestClient,
    make_key: Callable[[Role], str],
    receiver: Receiver,
    secret: str,
) -> None:
    # The transaction that queues an alert holds it for this process's running worker and
    # hands it over at the commit: no write lock is needed before sending. Before, the worker
    # first claimed it in a write transaction, queued behind every other writer (on SQLite,
    # the requests' transactions under load: 20-50 ms per alert at 1,000 events/s).
    engine = app.state.engine
    held = threading.Event()

    queued = threading.Event()

    def note_the_outbox(_: Any, __: Any, statement: str, *___: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO OUTBOX"):
            queued.set()

    def hold_the_lock(session: Session) -> None:  # at the commit that queued the alerts
        if held.is_set() or not queued.is_set():
            return
        held.set()
        cursor = holder.cursor()
        if engine.dialect.name == "sqlite":  # its driver connections leave BEGIN to us
            cursor.execute("BEGIN IMMEDIATE")
            cursor.execute("CREATE TABLE held (x INTEGER)")  # a write: the lock is held
        else:
            cursor.execute("LOCK TABLE outbox IN EXCLUSIVE MODE")  # plain reads pass

    holder = engine.raw_connection()
    with contextlib.closing(holder), polling_hourly(app):
        event.listen(engine, "before_cursor_execute", note_the_outbox)
        event.listen(Session, "after_commit", hold_the_lock, insert=True)
        try:
            demo_request(client, make_key(Role.INGEST), "noor@northwind-logistics.com")
            got = alert_types(receiver, within=3)
        finally:
            event.remove(Session, "after_commit", hold_the_lock)
            event.remove(engine, "before_cursor_execute", note_the_outbox)
            holder.rollback()
    assert held.is_set()
    assert got == ["lead.assigned", "lead.sales_ready"]  # sent with the lock still held


class SlowDecay(Worker):
    """A worker whose decay pass takes seconds, as one at a million leads does."""

    def decay(self) -> int:
        self.stop.wait(5)
        return 0


def test_alerts_are_sent_while_the_worker_runs_a_long_job(
    app: FastAPI,
    client: TestClient,
    make_key: Callable[[Role], str],
    receiver: Receiver,
    secret: str,
) -> None:
    # Before: one thread delivered and ran the periodic jobs, so an alert waited for a decay
    # pass (3-4 s of CPU every 5 minutes at a million leads; 30 s and more after a pause).
    with running(SlowDecay(app.state.sessions), settle=0.5):  # its first decay pass has begun
        demo_request(client, make_key(Role.INGEST), "zoe@northwind-logistics.com")
        got = alert_types(receiver, within=2)
    assert got == ["lead.assigned", "lead.sales_ready"]


def test_an_account_given_an_owner_hands_its_sales_ready_leads_to_that_rep_first(
    app: FastAPI,
    client: TestClient,
    make_key: Callable[[Role], str],
    receiver: Receiver,
    secret: str,
) -> None:
    """`account_owner_first` (the example's routing) needs an owner: the API sets one."""
    marketing = {"Authorization": f"Bearer {make_key(Role.MARKETING)}"}
    body = {"domain": "northwind-logistics.com", "owner": "CY@flowline.io"}
    answer = client.post("/api/accounts", json=body, headers=marketing)
    assert answer.status_code in (200, 201), answer.text
    assert answer.json()["owner"] == "cy@flowline.io"
    bad = client.post("/api/accounts", json={**body, "owner": "cy"}, headers=marketing)
    assert bad.status_code == 422 and bad.json()["error"]["problems"][0]["field"] == "owner"
    demo_request(client, make_key(Role.INGEST), "olivia@northwind-logistics.com")
    with app.state.sessions() as session:
        lead = session.scalars(select(Lead).where(Lead.email == "olivia@northwind-logistics.com"))
        olivia = lead.one()
        assignment = session.scalars(select(Assignment).where(Assignment.lead_id == olivia.id))
        assert olivia.owner == "cy@flowline.io"
        assert assignment.one().reason.startswith("owns the account")
    shown = client.get("/api/accounts/northwind-logistics.com", headers=marketing).json()
    assert shown["owner"] == "cy@flowline.io"
