"""The in-app channel: alerts reach people's bells through the outbox, in the transaction of
the change, only for the people they are addressed to; and their pages hear of it at once,
over a Server-Sent Events stream (both engines: PostgreSQL's NOTIFY and SQLite's look)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event, select

from leadflow.core.errors import NotFound
from leadflow.core.roles import Role
from leadflow.models.outbox import Notification, OutboxMessage
from leadflow.models.user import User, WebSession
from leadflow.repositories import notifications as notification_repo
from leadflow.repositories import outbox
from leadflow.repositories import reps as rep_repo
from leadflow.services import handoff, notifications, reps, users, webhooks
from leadflow.worker import Worker
from tests.api.conftest import bearer
from tests.api.test_handoff import demo_request, overdue_by

PASSWORD = "correct-horse-battery"
ALWAYS = "mon-sun 00:00-24:00"


@pytest.fixture
def team(app: FastAPI) -> dict[str, User]:
    """Cy and Di on the inbound team, both signed-up reps; Max a manager."""
    now = datetime.now(UTC)
    found = {}
    with app.state.sessions() as session, session.begin():
        for name in ("cy", "di"):
            fields = {"email": f"{name}@flowline.io", "name": name.title(), "team": "inbound"}
            reps.add_rep(session, {**fields, "working_hours": ALWAYS}, now=now)
        for name, role in (("cy", "rep"), ("di", "rep"), ("max", "manager")):
            found[name] = users.create_user(session, email=f"{name}@flowline.io", name=name,
                                            role=role, password=PASSWORD, now=now)  # fmt: skip
        session.expunge_all()
    return found


def notes(app: FastAPI) -> list[Notification]:
    with app.state.sessions() as session:
        found = list(session.scalars(select(Notification).order_by(Notification.id)))
        session.expunge_all()
        return found


def test_a_hand_off_rings_the_bell_of_the_rep_it_went_to_and_nobody_else(
    app: FastAPI, client: TestClient, make_key: Callable[[Role], str], team: dict[str, User]
) -> None:
    demo_request(client, make_key(Role.INGEST), "sam@unlisted-co.io")
    [note] = notes(app)
    assert note.user_id == team["cy"].id  # round-robin: Cy first (lowest id)
    assert note.event_type == "lead.sales_ready"
    assert note.title.startswith("lead.sales_ready: sam@unlisted-co.io")
    assert "Why: Demo requested" in note.body and "Requested a demo: +40" in note.body
    assert note.lead_id is not None and note.read_at is None
    with app.state.sessions() as session:
        [inapp] = session.scalars(
            select(OutboxMessage).where(OutboxMessage.target_kind == "inapp")
        ).all()
        assert (inapp.alert_id, inapp.target) == (note.alert_id, str(team["cy"].id))
        assert inapp.delivered_at is not None  # delivered with the change: nothing to send
        log = webhooks.delivery_log(session, 10)
        assert [m.target_kind for m in log] == ["inapp"]  # /alerts lists it
    assert Worker(app.state.sessions).run_once(httpx.Client(), sweep=False) == 0


def test_a_lead_left_in_a_team_queue_rings_every_team_members_bell(
    app: FastAPI, team: dict[str, User]
) -> None:
    with app.state.sessions() as session, session.begin():
        people = notifications.recipients(session, None, "inbound")
        assert sorted(p.email for p in people) == ["cy@flowline.io", "di@flowline.io"]
        data = {"lead_id": None, "email": "x@y.io", "minutes_late": 3, "team": "inbound"}
        handoff.queue_to(session, "sla.breached", data, [], datetime.now(UTC), people)
    assert sorted(n.user_id for n in notes(app)) == sorted([team["cy"].id, team["di"].id])


def test_nothing_rings_for_a_change_that_rolled_back(app: FastAPI, team: dict[str, User]) -> None:
    woken: list[int] = []
    notification_repo.COMMIT_LISTENERS.append(lambda: woken.append(1))
    try:
        with app.state.sessions() as session:
            with session.begin():
                people = notifications.recipients(session, None, "inbound")
                handoff.queue_to(session, "sla.breached", {}, [], datetime.now(UTC), people)
                session.rollback()
            assert notes(app) == [] and woken == []
            with session.begin():
                handoff.queue_to(session, "sla.breached", {}, [], datetime.now(UTC), people)
            assert len(notes(app)) == 2 and woken == [1]  # once per commit, after it
    finally:
        notification_repo.COMMIT_LISTENERS.pop()


def test_people_read_and_mark_only_their_own(
    app: FastAPI, client: TestClient, make_key: Callable[[Role], str], team: dict[str, User]
) -> None:
    demo_request(client, make_key(Role.INGEST), "sam@unlisted-co.io")
    [note] = notes(app)
    now = datetime.now(UTC)
    with app.state.sessions() as session, session.begin():
        cy, di = session.get(User, team["cy"].id), session.get(User, team["di"].id)
        assert cy is not None and di is not None
        assert [n.id for n in notifications.listing(session, di)] == []
        assert notifications.unread(session, cy) == 1
        with pytest.raises(NotFound, match=f"no notification {note.id} of yours"):
            notifications.mark_read(session, di, [note.id], now)
        assert notifications.mark_read(session, cy, [note.id], now) == 1
        assert notifications.unread(session, cy) == 0


def test_a_replayed_alert_rings_again(
    app: FastAPI, client: TestClient, make_key: Callable[[Role], str], team: dict[str, User]
) -> None:
    demo_request(client, make_key(Role.INGEST), "sam@unlisted-co.io")
    [first] = notes(app)
    with app.state.sessions() as session, session.begin():
        assert webhooks.replay(session, first.alert_id, datetime.now(UTC)) == 1
    Worker(app.state.sessions).run_once(httpx.Client(), sweep=False)
    again = notes(app)
    assert [(n.alert_id, n.user_id) for n in again] == [(first.alert_id, team["cy"].id)] * 2


def signed_in(app: FastAPI, user: User) -> dict[str, str]:
    with app.state.sessions() as session, session.begin():
        fresh = session.get(User, user.id)
        assert fresh is not None
        return {"lf_session": users.start_session(session, fresh, datetime.now(UTC))}


@pytest.fixture
def streams() -> Iterator[list[httpx.Client]]:
    opened: list[httpx.Client] = []
    yield opened
    for client in opened:
        client.close()


def listen(
    base: str,
    cookies: dict[str, str],
    streams: list[httpx.Client],
    query: str = "",
    ended: threading.Event | None = None,
) -> list[tuple[str, dict[str, object]]]:
    """Read a /live stream in a thread; the events so far, as (name, data). `ended` is set
    when the server ends the stream."""
    heard: list[tuple[str, dict[str, object]]] = []
    client = httpx.Client(base_url=base, cookies=cookies, timeout=30)
    streams.append(client)

    def read() -> None:
        try:
            with client.stream("GET", f"/live{query}") as response:
                name = ""
                for line in response.iter_lines():
                    if line.startswith("event: "):
                        name = line[7:]
                    elif line.startswith("data: "):
                        heard.append((name, json.loads(line[6:])))
            if ended is not None:
                ended.set()
        except httpx.HTTPError:
            pass  # the test closed the stream

    threading.Thread(target=read, daemon=True).start()
    return heard


def wait_for(
    heard: list[tuple[str, dict[str, object]]], name: str, seconds: float = 20
) -> dict[str, object]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for got, data in heard:
            if got == name:
                return data
        time.sleep(0.05)
    raise AssertionError(f"no {name!r} event in {heard}")


def test_the_page_hears_of_its_own_alerts_and_of_nobody_elses(
    app: FastAPI,
    live_url: str,
    client: TestClient,
    make_key: Callable[[Role], str],
    team: dict[str, User],
    streams: list[httpx.Client],
) -> None:
    cy = listen(live_url, signed_in(app, team["cy"]), streams)
    di = listen(live_url, signed_in(app, team["di"]), streams)
    assert wait_for(cy, "hello") == {"unread": 0} and wait_for(di, "hello") == {"unread": 0}
    demo_request(client, make_key(Role.INGEST), "sam@unlisted-co.io")
    note = wait_for(cy, "notification")
    assert note["unread"] == 1 and note["type"] == "lead.sales_ready"
    assert str(note["title"]).startswith("lead.sales_ready: sam@unlisted-co.io")
    assert note["url"] == f"/leads/{note['lead_id']}"
    assert wait_for(cy, "queue")["leads"] == [note["lead_id"]]
    # Di's queue shows unowned leads: it is told to look again, but not which lead went to Cy.
    assert wait_for(di, "queue") == {"leads": []}
    assert [name for name, _ in di if name == "notification"] == []
    lead = listen(live_url, signed_in(app, team["max"]), streams, f"?lead={note['lead_id']}")
    wait_for(lead, "hello")
    demo_request(client, make_key(Role.INGEST), "sam@unlisted-co.io", visit=2)
    assert wait_for(lead, "lead") == {"id": note["lead_id"]}


def test_a_reassignment_tells_the_new_rep_and_every_open_queue(
    app: FastAPI,
    live_url: str,
    client: TestClient,
    make_key: Callable[[Role], str],
    team: dict[str, User],
    streams: list[httpx.Client],
) -> None:
    # Before: the SLA's reassignment wrote no notification for the new rep and no hand-off,
    # so the new rep's bell stayed silent and no queue but the old rep's was told to look.
    demo_request(client, make_key(Role.INGEST), "sam@unlisted-co.io")  # Cy's
    overdue_by(app, 31)  # breached, reminded (Cy has no manager: Cy again)
    heard = {name: listen(live_url, signed_in(app, team[name]), streams)
             for name in ("cy", "di", "max")}  # fmt: skip
    for stream in heard.values():
        wait_for(stream, "hello")
    overdue_by(app, 121)  # reassigned: to Di, the other inbound rep
    note = wait_for(heard["di"], "notification")
    assert note["type"] == "lead.assigned" and note["unread"] == 1
    lead_id = note["lead_id"]
    assert wait_for(heard["di"], "queue") == {"leads": [lead_id]}
    assert wait_for(heard["cy"], "queue") == {"leads": [lead_id]}  # told by the escalation
    assert wait_for(heard["max"], "queue") == {"leads": []}  # its owner changed: look again


def test_a_rep_hears_nothing_of_a_lead_they_may_not_open(
    app: FastAPI,
    live_url: str,
    client: TestClient,
    make_key: Callable[[Role], str],
    team: dict[str, User],
    streams: list[httpx.Client],
) -> None:
    # Before: any signed-in person could watch any lead id on the stream and be told each
    # time it had activity, though its page is a 403 for them (another rep's lead).
    demo_request(client, make_key(Role.INGEST), "sam@unlisted-co.io")  # Cy's lead now
    wait = notes(app)
    deadline = time.monotonic() + 20
    while not wait and time.monotonic() < deadline:  # the in-app delivery is the worker's
        time.sleep(0.05)
        wait = notes(app)
    lead_id = wait[0].lead_id
    assert client.get(f"/leads/{lead_id}", cookies=signed_in(app, team["di"])).status_code == 403
    di = listen(live_url, signed_in(app, team["di"]), streams, f"?lead={lead_id}")
    cy = listen(live_url, signed_in(app, team["cy"]), streams, f"?lead={lead_id}")
    wait_for(di, "hello")
    wait_for(cy, "hello")
    demo_request(client, make_key(Role.INGEST), "sam@unlisted-co.io", visit=2)
    assert wait_for(cy, "lead") == {"id": lead_id}  # the owner's page is told
    time.sleep(1)  # one hub pass told both pages; give Di's stream time to show it
    assert [data for name, data in di if name == "lead"] == []


def end_session(app: FastAPI, client: TestClient, admin: str, how: str, user: User) -> None:
    """End the person's sessions as an admin does (or as time does)."""
    if how == "expired":
        with app.state.sessions() as session, session.begin():
            for web_session in session.scalars(
                select(WebSession).where(WebSession.user_id == user.id)
            ):
                web_session.expires_at = datetime.now(UTC) - timedelta(seconds=1)
        return
    body = {"password": "a-new-long-password"} if how == "reset-password" else None
    done = client.post(f"/api/users/{user.email}/{how}", json=body, headers=bearer(admin))
    assert done.status_code == 200, done.text


@pytest.mark.parametrize("how", ["reset-password", "deactivate", "expired"])
def test_a_stream_ends_with_its_session(
    app: FastAPI,
    live_url: str,
    client: TestClient,
    make_key: Callable[[Role], str],
    team: dict[str, User],
    streams: list[httpx.Client],
    how: str,
) -> None:
    # Before: /live looked at the session once, when the page opened the stream; a stream left
    # open (a stolen cookie's tab) went on hearing the person's alerts, with the leads' names
    # and companies, after their password was reset, they were deactivated or the session
    # expired, for as long as it stayed open.
    ended = threading.Event()
    cy = listen(live_url, signed_in(app, team["cy"]), streams, ended=ended)
    wait_for(cy, "hello")
    end_session(app, client, make_key(Role.ADMIN), how, team["cy"])
    demo_request(client, make_key(Role.INGEST), "sam@unlisted-co.io")  # handed off to Cy
    assert ended.wait(20), f"the stream is still open: {cy}"
    assert [name for name, _ in cy] == ["hello"]
    if how != "deactivate":  # the alert is Cy's, in the bell once signed in again
        assert [n.user_id for n in notes(app)] == [team["cy"].id]


def test_a_stream_ends_when_its_persons_role_changes(
    app: FastAPI,
    live_url: str,
    client: TestClient,
    make_key: Callable[[Role], str],
    team: dict[str, User],
    streams: list[httpx.Client],
) -> None:
    # A manager watching a rep's lead, made a rep (single sign-on's role claim): the page was
    # told of the lead's activity as before, though it is a 403 for them now.
    demo_request(client, make_key(Role.INGEST), "sam@unlisted-co.io")  # Cy's lead
    [note] = notes(app)
    ended = threading.Event()
    watching = listen(live_url, signed_in(app, team["max"]), streams, f"?lead={note.lead_id}",
                      ended=ended)  # fmt: skip
    wait_for(watching, "hello")
    with app.state.sessions() as session, session.begin():
        user = session.get(User, team["max"].id)
        assert user is not None
        user.role = "rep"
    demo_request(client, make_key(Role.INGEST), "sam@unlisted-co.io", visit=2)
    assert ended.wait(20), f"the stream is still open: {watching}"
    assert [name for name, _ in watching] == ["hello"]
    page = client.get(f"/leads/{note.lead_id}", cookies=signed_in(app, team["max"]))
    assert page.status_code == 403  # as the stream now: a rep's page for another rep's lead


def test_the_stream_without_a_session_is_a_204_so_the_browser_stops_asking(
    live_url: str,
) -> None:
    answer = httpx.get(f"{live_url}/live", timeout=10)
    assert answer.status_code == 204


def test_alerts_that_share_an_audience_reach_whom_each_alone_would(
    app: FastAPI, team: dict[str, User]
) -> None:
    """A bulk pass's hand-offs read who alerts go to once (`notifications.Audience`): every
    alert still reaches every endpoint that wants it and every person it would alone."""
    now = datetime.now(UTC)
    with app.state.sessions() as session, session.begin():
        wants = outbox.add_endpoint(session, url="https://hooks.example/a", secret="s" * 32,
                                    events=["lead.sales_ready"], at=now)  # fmt: skip
        outbox.add_endpoint(session, url="https://hooks.example/b", secret="t" * 32,
                            events=["sla.breached"], at=now)  # fmt: skip
        cy = rep_repo.get_by_email(session, "cy@flowline.io")
        reads: list[str] = []

        def read(_c: object, _cur: object, statement: str, *_: object) -> None:
            if "webhook_endpoints" in statement:
                reads.append(statement)

        event.listen(session.connection(), "before_cursor_execute", read)
        audience = notifications.Audience(session)
        alerts = [
            handoff.queue_alert(
                session, "lead.sales_ready", {"n": k}, rep, now, team="inbound", audience=audience
            )
            for k, rep in enumerate((None, cy, None, cy))
        ]
        assert len(reads) == 1
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    sent = {a: sorted((m.target_kind, m.target) for m in rows if m.alert_id == a) for a in alerts}
    team_users = [("inapp", str(team["cy"].id)), ("inapp", str(team["di"].id))]
    to_cy = [("inapp", str(team["cy"].id))]
    hook = [("webhook", str(wants.id))]
    assert list(sent.values()) == [
        sorted(hook + team_users), sorted(hook + to_cy), sorted(hook + team_users),
        sorted(hook + to_cy),
    ]  # fmt: skip
