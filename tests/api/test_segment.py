"""The Segment tracking API: every call type, identity merging, dedupe, skew, limits, auth."""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from leadflow.core.roles import Role
from leadflow.models.event import Event
from leadflow.models.lead import Lead
from leadflow.models.score_ledger import ScoreEntry
from tests.api.test_group_commit import run as in_thread


def basic(key: str) -> dict[str, str]:
    """The write key as the HTTP Basic user, as Segment libraries send it."""
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@pytest.fixture
def write_key(make_key: Callable[[Role], str]) -> str:
    return make_key(Role.INGEST)


def lead_row(app: FastAPI, email: str) -> Lead | None:
    with app.state.sessions() as session:
        return session.scalar(select(Lead).where(Lead.email == email))


def count(app: FastAPI, model: Any) -> int:
    with app.state.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_track_scores_the_lead_before_answering(
    client: TestClient, app: FastAPI, write_key: str
) -> None:
    body = {"userId": "ann@acme-logistics.com", "event": "Demo Requested", "messageId": "m-1"}
    response = client.post("/v1/track", json=body, headers=basic(write_key))
    assert response.status_code == 200, response.text
    assert response.json()["stored"] == 1
    lead = lead_row(app, "ann@acme-logistics.com")
    assert lead is not None
    assert lead.engagement == 40.0  # demo_request: 40 points, just now, no decay yet
    assert lead.stage == "sql"  # a demo request is a hand-raiser
    assert any(c["rule"] == "demo_request" for c in lead.contributions)


def test_identify_merges_the_anonymous_history(
    client: TestClient, app: FastAPI, write_key: str
) -> None:
    now = datetime.now(UTC)
    pages = [
        {"type": "page", "anonymousId": "anon-7", "messageId": f"p{k}", "name": "Pricing",
         "properties": {"path": "/pricing"}, "timestamp": iso(now - timedelta(minutes=5 - k))}
        for k in range(2)
    ]  # fmt: skip
    assert (
        client.post("/v1/batch", json={"batch": pages}, headers=basic(write_key)).status_code == 200
    )
    identify = {
        "anonymousId": "anon-7", "userId": "u-42", "messageId": "i1",
        "traits": {"email": "Bo@Example-Corp.com", "firstName": "Bo", "title": "VP Operations"},
    }  # fmt: skip
    assert client.post("/v1/identify", json=identify, headers=basic(write_key)).status_code == 200
    lead = lead_row(app, "bo@example-corp.com")
    assert lead is not None and lead.first_name == "Bo" and lead.title == "VP Operations"
    rules = {c["rule"]: c["points"] for c in lead.contributions}
    assert rules["pricing_page"] == pytest.approx(20.0, abs=0.01)  # two pricing views, minutes old
    # Later events by user id alone land on the same lead.
    track = {"userId": "u-42", "event": "Webinar Attended", "messageId": "t1"}
    assert client.post("/v1/t", json=track, headers=basic(write_key)).status_code == 200
    lead = lead_row(app, "bo@example-corp.com")
    assert lead is not None
    assert {c["rule"] for c in lead.contributions} >= {"pricing_page", "webinar"}


def test_a_replayed_batch_changes_nothing(client: TestClient, app: FastAPI, write_key: str) -> None:
    who = {"userId": "cy@initech.io"}
    batch = {"batch": [
        {**who, "type": "identify", "messageId": "a", "traits": {"email": "cy@initech.io"}},
        {**who, "type": "track", "event": "Content Downloaded", "messageId": "b"},
        {**who, "type": "page", "messageId": "c", "properties": {"path": "/"}},
    ]}  # fmt: skip
    first = client.post("/v1/batch", json=batch, headers=basic(write_key)).json()
    assert (first["stored"], first["duplicates"]) == (3, 0)
    before = lead_row(app, "cy@initech.io")
    events, ledger = count(app, Event), count(app, ScoreEntry)
    again = client.post("/v1/batch", json=batch, headers=basic(write_key)).json()
    assert (again["stored"], again["duplicates"]) == (0, 3)
    after = lead_row(app, "cy@initech.io")
    assert before is not None and after is not None
    assert (after.total, after.scored_at, after.updated_at) == (
        before.total,
        before.scored_at,
        before.updated_at,
    )
    assert (count(app, Event), count(app, ScoreEntry)) == (events, ledger)


def test_sender_clock_skew_is_corrected(client: TestClient, app: FastAPI, write_key: str) -> None:
    skewed = datetime.now(UTC) + timedelta(hours=3)  # the sender's clock is 3 hours fast
    body = {
        "userId": "di@acme.io", "event": "Email Clicked", "messageId": "skew",
        "timestamp": iso(skewed - timedelta(minutes=10)), "sentAt": iso(skewed),
    }  # fmt: skip
    before = datetime.now(UTC)
    assert client.post("/v1/track", json=body, headers=basic(write_key)).status_code == 200
    after = datetime.now(UTC)
    with app.state.sessions() as session:
        event = session.scalar(select(Event).where(Event.message_id == "skew"))
    assert event is not None
    assert (
        before - timedelta(minutes=10, seconds=1)
        <= event.occurred_at
        <= after - timedelta(minutes=10)
    )


def test_group_attaches_the_lead_to_its_account(
    client: TestClient, app: FastAPI, write_key: str
) -> None:
    client.post(
        "/v1/identify", json={"userId": "ed@gmail.com", "messageId": "g0"}, headers=basic(write_key)
    )
    group = {
        "userId": "ed@gmail.com", "groupId": "acct-9", "messageId": "g1",
        "traits": {"name": "Globex", "website": "https://www.globex.com/about", "employees": 120},
    }  # fmt: skip
    assert client.post("/v1/group", json=group, headers=basic(write_key)).status_code == 200
    with app.state.sessions() as session:
        lead = session.scalar(select(Lead).where(Lead.email == "ed@gmail.com"))
        assert lead is not None and lead.account_id is not None
        from leadflow.models.account import Account

        account = session.get(Account, lead.account_id)
        assert account is not None
        assert (account.domain, account.name, account.employees) == ("globex.com", "Globex", 120)


def test_text_plain_gzip_and_body_write_key(
    client: TestClient, app: FastAPI, write_key: str
) -> None:
    body = {
        "writeKey": write_key,
        "userId": "fy@acme.io",
        "event": "Form Submitted",
        "messageId": "z",
    }
    raw = gzip.compress(json.dumps(body).encode())
    headers = {"Content-Type": "text/plain", "Content-Encoding": "gzip"}
    response = client.post("/v1/t", content=raw, headers=headers)
    assert response.status_code == 200, response.text
    assert lead_row(app, "fy@acme.io") is not None


def test_invalid_messages_in_a_batch_are_reported_and_the_rest_kept(
    client: TestClient, app: FastAPI, write_key: str
) -> None:
    batch = {"batch": [
        {"type": "track", "userId": "ga@acme.io", "event": "Webinar Attended", "messageId": "ok1"},
        {"type": "track", "userId": "ga@acme.io", "messageId": "no-event"},
        {"type": "launch", "userId": "ga@acme.io", "messageId": "bad-type"},
        {"type": "page", "messageId": "nobody"},
        {"type": "track", "userId": "ga@acme.io", "event": "x", "properties": {"b": "a" * 33_000}},
        "not an object",
        {"type": "page", "userId": "ga@acme.io", "messageId": "ok2", "timestamp": "yesterday"},
    ]}  # fmt: skip
    response = client.post("/v1/batch", json=batch, headers=basic(write_key))
    assert response.status_code == 200
    data = response.json()
    assert data["stored"] == 1
    reasons = {r["index"]: r["reason"] for r in data["rejected"]}
    assert set(reasons) == {1, 2, 3, 4, 5, 6}
    assert "event is required" in reasons[1]
    assert "'launch'" in reasons[2]
    assert "userId or anonymousId" in reasons[3]
    assert "32 KB" in reasons[4]
    assert "timestamp" in reasons[6]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"{not json", "invalid JSON"),
        (b"", "empty"),
        (b"[1, 2]", "JSON object"),
        (json.dumps({"batch": [{}] * 2501}).encode(), "over 2500"),
        (json.dumps({"batch": "x"}).encode(), "batch"),
        (b"{" + b" " * (501 * 1024) + b"}", "500 KB"),
    ],
)
def test_malformed_and_oversize_requests_are_400_with_the_reason(
    client: TestClient, write_key: str, content: bytes, expected: str
) -> None:
    response = client.post("/v1/batch", content=content, headers=basic(write_key))
    assert response.status_code == 400, response.text
    assert expected in response.json()["error"]["message"]


def test_a_batch_context_is_merged_into_each_of_its_messages(
    client: TestClient, app: FastAPI, write_key: str
) -> None:
    library = {"name": "analytics-go", "version": "3.3.0"}
    batch = {"context": {"library": library, "ip": "10.0.0.1"}, "batch": [
        {"type": "track", "userId": "bc@acme.io", "event": "Webinar Attended", "messageId": "c1"},
        {"type": "track", "userId": "bc@acme.io", "event": "Demo Requested", "messageId": "c2",
         "context": {"ip": "10.0.0.2"}},
    ]}  # fmt: skip
    response = client.post("/v1/batch", json=batch, headers=basic(write_key))
    assert response.status_code == 200, response.text
    with app.state.sessions() as session:
        stored = dict(session.execute(select(Event.message_id, Event.context)).all())
    assert stored == {"c1": {"library": library, "ip": "10.0.0.1"},
                      "c2": {"library": library, "ip": "10.0.0.2"}}  # fmt: skip


def test_a_batch_context_merged_into_every_message_is_bounded(
    client: TestClient, app: FastAPI, write_key: str
) -> None:
    # The batch's context is copied into each message: 300 KB of context keys under 2,500
    # messages made 750 MB of messages to copy, measure and parse (a request of 470 KB took
    # minutes of CPU and gigabytes of memory, and answered that every message was too big).
    context = {f"{k:x}": 0 for k in range(34_000)}
    batch = {"context": context, "batch": [
        {"type": "track", "userId": "bd@acme.io", "event": "x", "messageId": f"d{k}"}
        for k in range(2500)]}  # fmt: skip
    raw = json.dumps(batch, separators=(",", ":")).encode()
    assert len(raw) < 500 * 1024
    response = client.post("/v1/batch", content=raw, headers=basic(write_key))
    assert response.status_code == 400, response.text[:200]
    assert response.json()["error"]["message"] == (
        "context: the batch's context (295 KB) is merged into each of its 2,500 messages: "
        "736,409 KB in all, over 500 KB"
    )
    assert count(app, Event) == 0


def test_a_single_invalid_message_is_400(client: TestClient, write_key: str) -> None:
    response = client.post("/v1/track", json={"userId": "a@b.io"}, headers=basic(write_key))
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "event is required"


def test_write_keys_are_checked(client: TestClient, make_key: Callable[[Role], str]) -> None:
    body = {"userId": "a@b.io", "event": "X"}
    assert client.post("/v1/track", json=body).status_code == 401
    assert client.post("/v1/track", json=body, headers=basic("nope")).status_code == 401
    sales = client.post("/v1/track", json=body, headers=basic(make_key(Role.SALES)))
    assert sales.status_code == 403
    assert "may not send events" in sales.json()["error"]["message"]
    assert (
        client.post("/v1/track", json=body, headers=basic(make_key(Role.MARKETING))).status_code
        == 200
    )


def test_browsers_may_call_it_cross_origin(client: TestClient) -> None:
    response = client.options(
        "/v1/t",
        headers={"Origin": "https://www.example.com", "Access-Control-Request-Method": "POST"},
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] in ("*", "https://www.example.com")


def test_nul_characters_are_dropped_not_fatal(
    client: TestClient, app: FastAPI, write_key: str
) -> None:
    # PostgreSQL text cannot hold NUL; found by the fuzz test.
    body = {"userId": "nu\u0000l@acme.io", "event": "Demo\u0000 Requested", "messageId": "nul"}
    body["traits"] = {"firstName": "A\u0000da"}
    response = client.post("/v1/track", json=body, headers=basic(write_key))
    assert response.status_code == 200, response.text
    assert lead_row(app, "nul@acme.io") is not None


def test_a_big_batch_lets_other_calls_in_between_its_parts(app: FastAPI, write_key: str) -> None:
    """A batch of many new people is stored a part at a time, each part committed: a page view
    sent meanwhile waits for a part, not for the whole batch (it waited 23 s behind 2,500)."""
    people = [{"type": "identify", "userId": f"p{i}@co{i}.example",
               "traits": {"email": f"p{i}@co{i}.example", "company": f"Co {i}"}}
              for i in range(150)]  # fmt: skip
    finished: list[str] = []

    async def main() -> tuple[httpx.Response, httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://leadflow",
                                     auth=(write_key, "")) as client:  # fmt: skip

            async def send(path: str, body: dict[str, Any], wait: float) -> httpx.Response:
                await asyncio.sleep(wait)
                response = await client.post(path, json=body)
                finished.append(path)
                return response

            page = {"type": "page", "anonymousId": "visitor", "name": "/pricing"}
            batch, track = await asyncio.gather(
                send("/v1/batch", {"batch": people}, 0), send("/v1/page", page, 0.05)
            )
            return batch, track

    batch, page = in_thread(main())
    assert (batch.status_code, page.status_code) == (200, 200), batch.text
    assert batch.json()["stored"] == 150
    assert finished == ["/v1/page", "/v1/batch"]
    assert all(lead_row(app, f"p{i}@co{i}.example") for i in (0, 75, 149))


def test_a_lead_keeps_a_bounded_set_of_custom_attributes(
    client: TestClient, app: FastAPI, write_key: str
) -> None:
    """Traits from the public key cannot grow a lead without end (4 MB in 120 calls before):
    past 200 custom attributes new ones are left on the identify's event, not on the lead;
    the ones it has still update, and the playbook's declared fields are always kept."""
    email = "grow@acme.com"
    for call in range(3):
        traits = {f"junk_{call}_{i}": "x" * 20 for i in range(150)}
        traits["email"] = email
        sent = client.post("/v1/identify", json={"userId": email, "traits": traits},
                           auth=(write_key, ""))  # fmt: skip
        assert sent.status_code == 200, sent.text
    lead = lead_row(app, email)
    assert lead is not None and len(lead.attributes) == 200
    assert lead.attributes["junk_0_0"] == "x" * 20
    again = {"email": email, "junk_0_0": "changed", "junk_9_9": "new", "plan": "pro"}
    client.post("/v1/identify", json={"userId": email, "traits": again}, auth=(write_key, ""))
    lead = lead_row(app, email)
    assert lead is not None and len(lead.attributes) == 200
    assert lead.attributes["junk_0_0"] == "changed"
    assert "junk_9_9" not in lead.attributes


def test_a_lead_keeps_at_most_64_kb_of_custom_attributes(
    client: TestClient, app: FastAPI, write_key: str
) -> None:
    email = "big@acme.com"
    for call in range(5):
        traits = {"email": email, **{f"k{call}_{i}": "y" * 7000 for i in range(4)}}
        client.post("/v1/identify", json={"userId": email, "traits": traits},
                    auth=(write_key, ""))  # fmt: skip
    lead = lead_row(app, email)
    assert lead is not None
    assert len(json.dumps(lead.attributes)) <= 64 * 1024
    assert len(lead.attributes) >= 8


def test_an_address_the_api_refuses_is_no_leads_e_mail_here(
    client: TestClient, app: FastAPI, write_key: str, make_key: Callable[[Role], str]
) -> None:
    # Before: /v1 stored any `x@y.z` as a lead's e-mail, addresses POST /api/leads and imports
    # refuse (`ann@acme..io`), so one lead had an e-mail no other path could have written.
    for n, refused in enumerate(["ann@acme..io", "ann@a_b.io"]):
        body = {"userId": f"crm-{n}", "traits": {"email": refused, "firstName": "Ann"}}
        assert client.post("/v1/identify", json=body, headers=basic(write_key)).status_code == 200
        track = {"userId": refused, "event": "Signed Up"}
        assert client.post("/v1/track", json=track, headers=basic(write_key)).status_code == 200
        api = {"Authorization": f"Bearer {make_key(Role.MARKETING)}"}
        assert client.post("/api/leads", json={"email": refused}, headers=api).status_code == 422
    with app.state.sessions() as session:
        assert session.scalars(select(Lead.email).where(Lead.email.is_not(None))).all() == []
        assert count(app, Lead) == 2  # the two identified, by their user ids


def test_an_address_merged_away_brings_its_events_to_the_lead_kept(
    client: TestClient, app: FastAPI, write_key: str, make_key: Callable[[Role], str]
) -> None:
    # Before: the merge deleted the duplicate with its address, so the person's next identify,
    # track or form under it made the duplicate again: a fresh score, maybe a second hand-off.
    admin = {"Authorization": f"Bearer {make_key(Role.ADMIN)}"}
    for email in ("kim@globex-test.io", "kim.home@mailbox-test.org"):
        assert client.post("/api/leads", json={"email": email}, headers=admin).status_code == 201
    duplicate = {"duplicate": "kim.home@mailbox-test.org"}
    merged = client.post("/api/leads/kim@globex-test.io/merge", json=duplicate, headers=admin)
    assert merged.status_code == 200, merged.text
    kept = lead_row(app, "kim@globex-test.io")
    assert kept is not None
    messages = [
        {"type": "identify", "userId": "kim-7", "anonymousId": "anon-kim", "messageId": "i1",
         "traits": {"email": "Kim.Home@Mailbox-Test.org", "firstName": "Kim"}},
        {"type": "track", "userId": "kim.home@mailbox-test.org", "event": "Webinar Attended",
         "messageId": "t1"},
        {"type": "page", "userId": "kim-9", "messageId": "p1",
         "context": {"traits": {"email": "kim.home@mailbox-test.org"}}},
    ]  # fmt: skip
    for message in messages:  # alone, then in one batch (claims and locks first)
        sent = client.post(f"/v1/{message['type']}", json=message, headers=basic(write_key))
        assert sent.status_code == 200, sent.text
    again = [{**m, "messageId": f"{m['messageId']}-b", "userId": "kim-8"} for m in messages]
    batch = client.post("/v1/batch", json={"batch": again}, headers=basic(write_key))
    assert batch.status_code == 200 and batch.json()["stored"] == 3
    form = {"events": [{"email": "kim.home@mailbox-test.org", "name": "Form Submitted"}]}
    assert client.post("/api/events", json=form, headers=admin).status_code == 200
    with app.state.sessions() as session:
        assert session.scalars(select(Lead.email)).all() == ["kim@globex-test.io"]
        assert set(session.scalars(select(Event.lead_id))) == {kept.id}
    shown = client.get("/api/leads/kim.home@mailbox-test.org", headers=admin)
    assert shown.status_code == 200 and shown.json()["email"] == "kim@globex-test.io"
    assert shown.json()["name"] == "Kim"
    assert shown.json()["other_emails"] == ["kim.home@mailbox-test.org"]
    twice = client.post("/api/leads", json={"email": "kim.home@mailbox-test.org"}, headers=admin)
    assert twice.status_code == 409 and "kim@globex-test.io" in twice.json()["error"]["message"]


def test_an_anonymous_id_may_not_pose_as_an_address_merged_away(
    client: TestClient, write_key: str
) -> None:
    """`email:` keys are the merged addresses' (the identities table holds both): a client's
    anonymous or previous id in that form would take a person's address or events."""
    for message in (
        {"type": "page", "anonymousId": "email:kim@globex-test.io", "messageId": "p1"},
        {"type": "alias", "userId": "u-1", "previousId": "email:kim@globex-test.io",
         "messageId": "a1"},
    ):  # fmt: skip
        sent = client.post("/v1/batch", json={"batch": [message]}, headers=basic(write_key))
        assert sent.status_code == 200, sent.text
        field = "anonymousId" if message["type"] == "page" else "previousId"
        assert sent.json()["rejected"][0]["reason"].startswith(field), sent.text


def test_a_known_persons_event_from_a_new_device_by_context_traits_email_is_theirs(
    client: TestClient, app: FastAPI, write_key: str
) -> None:
    """Dee, known by e-mail, visits from a new device: the page and track carry only a new
    anonymousId and her address in `context.traits` (no userId), as an e-mail link's landing
    page sends them. Each event is hers, scored on her lead; two such people in one batch each
    get their own."""
    for email, anonymous in (("dee@initech.io", "old-1"), ("eli@initech.io", "old-2")):
        identify = {"anonymousId": anonymous, "traits": {"email": email}, "messageId": email}
        assert (
            client.post("/v1/identify", json=identify, headers=basic(write_key)).status_code == 200
        )
    batch = [
        {"type": "track", "anonymousId": f"new-{who}", "event": "Webinar Attended",
         "messageId": f"w-{who}", "context": {"traits": {"email": f"{who}@initech.io"}}}
        for who in ("dee", "eli")
    ]  # fmt: skip
    assert (
        client.post("/v1/batch", json={"batch": batch}, headers=basic(write_key)).status_code == 200
    )
    for who in ("dee", "eli"):
        lead = lead_row(app, f"{who}@initech.io")
        assert lead is not None
        with app.state.sessions() as session:
            event = session.scalars(select(Event).where(Event.message_id == f"w-{who}")).one()
        assert event.lead_id == lead.id, who
        assert "webinar" in {c["rule"] for c in lead.contributions}, who
