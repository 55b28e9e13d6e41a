"""People's data end to end over HTTP: erase leaves no trace any table holds, export gives
everything, tombstones stop replays, do-not-track stores no behaviour (both engines)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import MetaData, func, select

from leadflow.core.privacy import key_hash
from leadflow.core.roles import Role
from leadflow.models.event import Event
from leadflow.models.lead import Lead
from leadflow.models.outbox import OutboxMessage
from leadflow.models.shadow import ShadowScore
from leadflow.repositories import people
from leadflow.services import reps, users, webhooks
from tests.api.conftest import bearer

EMAIL = "zebulon.quixwort@umbrella-test.io"
DUPLICATE = "zq.personal@mailbox-test.org"
ANON = "anon-7f3e9c21d0"
USER = "crm-zq-55210"
NEEDLES = (EMAIL, DUPLICATE, "zebulon", "quixwort", ANON, USER)


def basic(key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


@pytest.fixture
def keys(make_key: Callable[[Role], str]) -> dict[Role, str]:
    return {role: make_key(role) for role in Role}


def everything(app: FastAPI) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table the database has (reflected: tables no model names too)."""
    engine = app.state.engine
    metadata = MetaData()
    metadata.reflect(engine)
    with engine.connect() as connection:
        return {
            name: [dict(row._mapping) for row in connection.execute(table.select())]
            for name, table in metadata.tables.items()
        }


def traces(app: FastAPI, needles: tuple[str, ...], lead_ids: set[int]) -> list[str]:
    """Where any needle (case-insensitive) or any of the lead ids still shows, as table.column."""
    found = []
    for name, rows in everything(app).items():
        for row in rows:
            for column, value in row.items():
                text = json.dumps(value, default=str) if not isinstance(value, str) else value
                if any(n.lower() in text.lower() for n in needles):
                    found.append(f"{name}.{column}: {text[:80]}")
                if column.endswith("lead_id") and value in lead_ids:
                    found.append(f"{name}.{column} = {value}")
                if isinstance(value, dict) and _lead_in_payload(value) in lead_ids:
                    found.append(f"{name}.{column}: payload about lead {_lead_in_payload(value)}")
    return found


def _lead_in_payload(payload: dict[str, Any]) -> Any:
    data = payload.get("data")
    lead = data.get("lead") if isinstance(data, dict) else None
    return lead.get("id") if isinstance(lead, dict) else None


def a_person(client: TestClient, app: FastAPI, keys: dict[Role, str]) -> dict[str, int]:
    """Zebulon: anonymous visits, identify, a demo request (SQL, hand-off, alert), a note, an
    accepted lead, a merged duplicate, and a colleague's note quoting him."""
    now = datetime.now(UTC)
    with app.state.sessions() as session, session.begin():
        fields = {"email": "cy@flowline.io", "name": "Cy", "team": "inbound"}
        reps.add_rep(session, {**fields, "working_hours": "mon-sun 00:00-24:00"}, now=now)
        # Cy signs in, so his alert about Zebulon is also in his bell (in-app).
        users.create_user(session, email="cy@flowline.io", name="Cy", role="rep",
                          password="a long password", now=now)  # fmt: skip
        webhooks.add_endpoint(session, "http://127.0.0.1:9/hooks", None, now=now)
    ingest, admin, sales = basic(keys[Role.INGEST]), bearer(keys[Role.ADMIN]), keys[Role.SALES]
    book = client.get("/api/playbook", headers=admin).json()["content"]
    candidate = {"content": book.replace("gte: 40}", "gte: 0}", 1)}  # a shadow scores him too
    assert client.post("/api/playbook/shadow", json=candidate, headers=admin).status_code == 200
    page = {"anonymousId": ANON, "messageId": "p1", "properties": {"path": "/pricing"}}
    assert client.post("/v1/page", json=page, headers=ingest).status_code == 200
    traits = {"email": EMAIL, "firstName": "Zebulon", "lastName": "Quixwort", "title": "CTO"}
    identify = {"userId": USER, "anonymousId": ANON, "messageId": "i1", "traits": traits}
    assert client.post("/v1/identify", json=identify, headers=ingest).status_code == 200
    demo = {"userId": USER, "event": "Demo Requested", "messageId": "t1"}
    assert client.post("/v1/track", json=demo, headers=ingest).status_code == 200
    note = {"text": "Zebulon Quixwort wants SSO"}
    assert client.post(f"/api/leads/{EMAIL}/notes", json=note, headers=admin).status_code == 201
    act = client.post(
        f"/api/leads/{EMAIL}/actions", json={"action": "accept"}, headers=bearer(sales)
    )
    assert act.status_code == 200, act.text
    twin = {"email": DUPLICATE, "first_name": "Zebulon", "last_name": "Quixwort"}
    assert client.post("/api/leads", json=twin, headers=admin).status_code == 201
    merged = client.post(f"/api/leads/{EMAIL}/merge", json={"duplicate": DUPLICATE}, headers=admin)
    assert merged.status_code == 200, merged.text
    olga = {"email": "olga@umbrella-test.io", "first_name": "Olga"}
    assert client.post("/api/leads", json=olga, headers=admin).status_code == 201
    quote = {"text": f"Introduced by {EMAIL} (Zebulon Quixwort)"}
    assert (
        client.post("/api/leads/olga@umbrella-test.io/notes", json=quote, headers=admin).status_code
        == 201
    )
    with app.state.sessions() as session:
        ids = {e: session.scalar(select(Lead.id).where(Lead.email == e)) for e in (EMAIL,)}
        assert session.get(ShadowScore, ids[EMAIL]) is not None
    assert traces(app, NEEDLES, set()), "the person should be everywhere before erasure"
    return {"lead": int(ids[EMAIL] or 0)}


def funnel(client: TestClient, key: str) -> list[int]:
    rows = client.get("/api/reports/funnel", headers=bearer(key)).json()["rows"]
    return [r["reached"] for r in rows]


def test_erasure_leaves_no_trace_in_any_table(
    client: TestClient, app: FastAPI, keys: dict[Role, str]
) -> None:
    person = a_person(client, app, keys)
    admin = keys[Role.ADMIN]
    before = funnel(client, admin)
    assert (
        client.delete(f"/api/people/{EMAIL}", headers=bearer(keys[Role.MARKETING])).status_code
        == 403
    )
    response = client.delete(f"/api/people/{EMAIL}", headers=bearer(admin))
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["lead"] == 1 and result["events"] >= 5 and result["alerts"] >= 1
    assert result["traces_scrubbed"] >= 1  # Olga's note quoted him
    assert traces(app, NEEDLES, {person["lead"]}) == []
    assert funnel(client, admin) == before  # reports still add up, anonymously
    with app.state.sessions() as session:
        erased = session.scalars(
            select(OutboxMessage).where(OutboxMessage.event_type == "people.erased")
        ).all()
        olga = session.scalar(select(Lead).where(Lead.email == "olga@umbrella-test.io"))
        notes = session.scalars(select(Event).where(Event.lead_id == (olga.id if olga else 0)))
        texts = [e.properties.get("text") for e in notes if e.name == "Note Added"]
    assert [m.payload["data"] for m in erased] == [
        {"subject": result["subject"], "erased_at": erased[0].payload["data"]["erased_at"]}
    ]
    assert texts == ["Introduced by [erased] ([erased])"]
    audit = client.get("/api/audit", params={"action": "people."}, headers=bearer(admin)).json()
    assert [(a["action"], a["target"]) for a in audit] == [
        ("people.erase", f"lead:{person['lead']}")
    ]


def test_replayed_and_new_events_of_an_erased_person_are_not_stored(
    client: TestClient, app: FastAPI, keys: dict[Role, str]
) -> None:
    a_person(client, app, keys)
    assert (
        client.delete(f"/api/people/{EMAIL}", headers=bearer(keys[Role.ADMIN])).status_code == 200
    )
    ingest = basic(keys[Role.INGEST])
    traits = {"email": EMAIL, "firstName": "Zebulon", "lastName": "Quixwort"}
    replays = [
        {
            "type": "identify",
            "userId": USER,
            "anonymousId": ANON,
            "messageId": "i1",
            "traits": traits,
        },
        {"type": "identify", "userId": "new-id-1", "messageId": "i9", "traits": traits},
        {"type": "track", "userId": USER, "event": "Demo Requested", "messageId": "t9"},
        {"type": "page", "anonymousId": ANON, "messageId": "p9"},
        {"type": "track", "userId": "someone-else", "event": "Signed Up", "messageId": "ok"},
        # The address merged into his record is his too: buried with him, not a new lead.
        {"type": "identify", "userId": "new-id-2", "messageId": "i8",
         "traits": {"email": DUPLICATE.upper(), "firstName": "Zebulon"}},
        {"type": "track", "userId": DUPLICATE, "event": "Demo Requested", "messageId": "t8"},
    ]  # fmt: skip
    answer = client.post("/v1/batch", json={"batch": replays}, headers=ingest)
    assert answer.status_code == 200 and answer.json()["success"] is True
    assert traces(app, NEEDLES, set()) == []
    with app.state.sessions() as session:
        assert people.tombstoned(session, [key_hash(DUPLICATE)]) == {key_hash(DUPLICATE)}
    with app.state.sessions() as session:
        assert session.scalar(select(Event.id).where(Event.message_id == "ok")) is not None


def test_an_alias_or_any_key_naming_an_erased_person_is_not_stored(
    client: TestClient, app: FastAPI, keys: dict[Role, str]
) -> None:
    a_person(client, app, keys)
    admin, ingest = bearer(keys[Role.ADMIN]), basic(keys[Role.INGEST])
    assert client.delete(f"/api/people/{EMAIL}", headers=admin).status_code == 200
    aliases = [
        {"type": "alias", "userId": "new-4", "previousId": ANON, "messageId": "a1"},
        {"type": "alias", "userId": "new-5", "previousId": USER, "messageId": "a2"},
    ]
    for alias in aliases:  # alone, as the report sent it, and in a batch
        assert client.post("/v1/alias", json=alias, headers=ingest).status_code == 200
    others = [
        {**aliases[0], "messageId": "a3"},
        {"type": "identify", "userId": EMAIL.upper(), "messageId": "i7",
         "traits": {"email": "fresh@example-test.io"}},
        {"type": "track", "userId": "new-6", "event": "Signed Up", "messageId": "t7",
         "context": {"traits": {"email": "fresh@example-test.io"}}, "traits": {"email": EMAIL}},
        {"type": "alias", "userId": "new-7", "previousId": "anon-someone-else", "messageId": "ok"},
    ]  # fmt: skip
    answer = client.post("/v1/batch", json={"batch": others}, headers=ingest)
    assert answer.status_code == 200 and answer.json()["success"] is True
    for key in (ANON, f"user:{USER}", "user:new-4", "user:new-5"):
        found = client.get(f"/api/people/{key}/export", headers=admin)
        assert found.status_code == 404, (key, found.text)
    assert traces(app, NEEDLES, set()) == []
    kept = client.get("/api/people/anon-someone-else/export", headers=admin)
    assert kept.status_code == 200  # an alias of nobody erased is stored as ever


def test_erasing_a_merged_duplicates_address_erases_the_person_it_names(
    client: TestClient, app: FastAPI, keys: dict[Role, str]
) -> None:
    """The merge said both records are one person, and the duplicate's address names the lead
    kept (before: nothing did, so erasing it only scrubbed its quotes and left the person)."""
    admin = bearer(keys[Role.ADMIN])
    for email in ("kate@litware-test.io", DUPLICATE):
        assert client.post("/api/leads", json={"email": email}, headers=admin).status_code == 201
    merged = client.post("/api/leads/kate@litware-test.io/merge", json={"duplicate": DUPLICATE},
                         headers=admin)  # fmt: skip
    assert merged.status_code == 200
    assert traces(app, (DUPLICATE,), set())
    exported = client.get(f"/api/people/{DUPLICATE}/export", headers=admin).json()
    assert exported["lead"]["email"] == "kate@litware-test.io"
    response = client.delete(f"/api/people/{DUPLICATE}", headers=admin)
    assert response.status_code == 200 and response.json()["lead"] == 1
    assert traces(app, (DUPLICATE, "kate@litware-test.io"), {exported["lead"]["id"]}) == []
    for email in ("kate@litware-test.io", DUPLICATE):
        assert client.get(f"/api/leads/{email}", headers=admin).status_code == 404


def test_erasing_nobody_known_is_a_404_naming_the_key(
    client: TestClient, keys: dict[Role, str]
) -> None:
    response = client.delete("/api/people/12345", headers=bearer(keys[Role.ADMIN]))
    assert response.status_code == 404
    assert "12345" in response.json()["error"]["message"]


def test_export_holds_everything_about_the_person(
    client: TestClient, app: FastAPI, keys: dict[Role, str]
) -> None:
    person = a_person(client, app, keys)
    url = f"/api/people/{EMAIL}/export"
    assert client.get(url, headers=bearer(keys[Role.SALES])).status_code == 403
    response = client.get(url, headers=bearer(keys[Role.ADMIN]))
    assert response.status_code == 200, response.text
    found = response.json()
    assert found["lead"]["email"] == EMAIL and found["lead"]["first_name"] == "Zebulon"
    assert set(found["identity_keys"]) == {ANON, f"user:{USER}", f"email:{DUPLICATE}"}
    assert found["other_emails"] == [DUPLICATE]  # the record merged into his
    names = {e["name"] for e in found["events"]}
    assert {"Demo Requested", "Note Added"} <= names
    assert any(e["type"] == "page" and e["anonymous_id"] == ANON for e in found["events"])
    assert "sql" in [s["to_stage"] for s in found["stage_changes"]]
    assert found["assignments"] and found["score_ledger"] and found["identities"]
    assert [n["event_type"] for n in found["notifications"]] == ["lead.sales_ready"]
    assert any(a["payload"]["type"] == "lead.sales_ready" for a in found["alerts"])
    assert found["account"]["domain"] == "umbrella-test.io"
    with app.state.sessions() as session:
        held = session.scalar(
            select(func.count()).select_from(Event).where(Event.lead_id == person["lead"])
        )
    assert len([e for e in found["events"] if e["lead_id"] == person["lead"]]) == held


def test_do_not_track_stores_and_scores_no_new_behaviour(
    client: TestClient, app: FastAPI, keys: dict[Role, str]
) -> None:
    ingest, admin = basic(keys[Role.INGEST]), bearer(keys[Role.ADMIN])
    traits = {"email": "dnt@litware-test.io", "do_not_track": True}
    identify = {"userId": "dnt-1", "traits": traits, "messageId": "d0"}
    assert client.post("/v1/identify", json=identify, headers=ingest).status_code == 200
    demo = {"userId": "dnt-1", "event": "Demo Requested", "messageId": "d1"}
    answer = client.post("/v1/track", json=demo, headers=ingest)
    assert answer.status_code == 200
    lead = client.get("/api/leads/dnt@litware-test.io", headers=admin).json()
    assert lead["do_not_track"] is True and lead["engagement"] == 0 and lead["stage"] != "sql"
    assert "do_not_track" not in lead["attributes"]
    assert lead["events"] == []
    patched = client.patch("/api/leads/dnt@litware-test.io", json={"do_not_track": False},
                           headers=admin)  # fmt: skip
    assert patched.status_code == 200 and patched.json()["do_not_track"] is False
    demo["messageId"] = "d2"
    assert client.post("/v1/track", json=demo, headers=ingest).status_code == 200
    lead = client.get("/api/leads/dnt@litware-test.io", headers=admin).json()
    assert lead["stage"] == "sql" and [e["name"] for e in lead["events"]] == ["Demo Requested"]
    again = client.patch(
        "/api/leads/dnt@litware-test.io", json={"do_not_track": True}, headers=admin
    )
    assert again.json()["do_not_track"] is True
    page = {"userId": "dnt-1", "messageId": "d3", "properties": {"path": "/pricing"}}
    assert client.post("/v1/page", json=page, headers=ingest).status_code == 200
    with app.state.sessions() as session:
        assert session.scalar(select(Event.id).where(Event.message_id == "d3")) is None


@pytest.mark.parametrize("key", ["%00", "a%00b@x.io", "9" * 40, "x" * 600])
def test_odd_keys_are_a_clear_4xx_never_a_500(
    client: TestClient, keys: dict[Role, str], key: str
) -> None:
    admin = bearer(keys[Role.ADMIN])
    for response in (
        client.delete(f"/api/people/{key}", headers=admin),
        client.get(f"/api/people/{key}/export", headers=admin),
    ):
        assert response.status_code in (404, 422), response.text
        assert response.json()["error"]["message"]
    odd = client.get("/api/audit", params={"actor": "a\x00b"}, headers=admin)
    assert odd.status_code == 422 and "actor" in odd.json()["error"]["message"]


def test_a_person_is_erased_and_kept_out_whatever_way_the_address_is_written(
    client: TestClient, app: FastAPI, keys: dict[Role, str]
) -> None:
    # Before: only case and blanks were folded, so a punycode domain or a decomposed é found
    # nobody to erase, and once erased the person came back written another way.
    admin, ingest = bearer(keys[Role.ADMIN]), basic(keys[Role.INGEST])
    made = client.post("/api/leads", json={"email": "noé@müller.de"}, headers=admin)
    assert made.status_code == 201, made.text
    erased = client.delete("/api/people/NOE\u0301@xn--mller-kva.de", headers=admin)
    assert erased.status_code == 200, erased.text
    assert erased.json()["lead"] == 1
    with app.state.sessions() as session, session.begin():  # buried as written, before
        people.bury(session, [key_hash("old@xn--mller-kva.de")], datetime.now(UTC))
    for n, email in enumerate(["noé@MÜLLER.de.", "ｎｏé@xn--mller-kva.de", "Old@xn--mller-kva.de"]):
        identify = {"userId": f"u-{n}", "messageId": f"i-{n}", "traits": {"email": email}}
        assert client.post("/v1/identify", json=identify, headers=ingest).status_code == 200
    with app.state.sessions() as session:
        assert session.scalars(select(Lead.email)).all() == []
