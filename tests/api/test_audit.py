"""The audit log over HTTP: every change leaves an entry with its actor, none holds a secret,
only admins read it (both engines)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import MetaData, select

from leadflow.core.roles import Role
from leadflow.models.audit import AuditEntry
from leadflow.services import users
from tests.api.conftest import bearer

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CHANNEL = "slack://T0AAA/B0BBB/Zq9SeCrEtToKeN"
HOOK = "https://hooks.example.com/services/h00kT0k3n"


def test_every_change_is_audited_without_secrets(
    client: TestClient, app: FastAPI, make_key: Callable[[Role], str]
) -> None:
    admin, sales = make_key(Role.ADMIN), make_key(Role.SALES)
    as_admin = bearer(admin)
    rep = {"email": "ana@flowline.io", "name": "Ana", "team": "inbound", "channels": [CHANNEL]}
    made = client.post("/api/reps", json=rep, headers=as_admin)
    assert made.status_code == 201, made.text
    patched = client.patch(f"/api/reps/{made.json()['id']}", json={"capacity": 5}, headers=as_admin)
    assert patched.status_code == 200
    hook = client.post("/api/webhooks", json={"url": HOOK}, headers=as_admin)
    assert hook.status_code == 201
    channel = {"purpose": "wins", "url": CHANNEL}
    assert client.post("/api/channels", json=channel, headers=as_admin).status_code == 201
    lead = {
        "email": "kai@litware-test.io",
        "first_name": "Kai",
        "attributes": {"plan": "platinum-x9"},
    }
    created = client.post("/api/leads", json=lead, headers=as_admin)
    assert created.status_code == 201
    lead_id = created.json()["id"]
    edit = {"title": "VP Operations"}
    assert (
        client.patch("/api/leads/kai@litware-test.io", json=edit, headers=as_admin).status_code
        == 200
    )
    demo = {"events": [{"email": "kai@litware-test.io", "type": "track", "name": "Demo Requested"}]}
    assert client.post("/api/events", json=demo, headers=as_admin).status_code in (200, 201)
    # A key is not a person: accepting through the API names the rep who takes the lead.
    act = {"action": "accept", "reason": "Kai called back", "rep": "ana@flowline.io"}
    accepted = client.post(
        "/api/leads/kai@litware-test.io/actions", json=act, headers=bearer(sales)
    )
    assert accepted.status_code == 200, accepted.text
    text = (EXAMPLES / "b2c_chairs.yaml").read_text()
    applied = client.post("/api/playbook/apply", content=text, headers=as_admin)
    assert applied.status_code == 200, applied.text

    assert client.get("/api/audit", headers=bearer(sales)).status_code == 403
    entries = client.get("/api/audit", headers=as_admin).json()
    found = {(e["actor"], e["action"], e["target"]) for e in entries}
    assert {
        ("test admin", "rep.add", f"rep:{made.json()['id']}"),
        ("test admin", "rep.update", f"rep:{made.json()['id']}"),
        ("test admin", "webhook.add", f"webhook:{hook.json()['id']}"),
        ("test admin", "lead.create", f"lead:{lead_id}"),
        ("test admin", "lead.edit", f"lead:{lead_id}"),
        ("ana@flowline.io (API key test sales)", "lead.accept", f"lead:{lead_id}"),
    } <= found
    assert ("test admin", "playbook.install") in {(a, b) for a, b, _ in found}
    assert ("test admin", "channel.add") in {(a, b) for a, b, _ in found}
    assert entries == sorted(entries, key=lambda e: (e["at"], e["id"]), reverse=True)
    everything = str(_all_rows(app))
    for secret in ("Zq9SeCrEtToKeN", "T0AAA", "h00kT0k3n", hook.json()["secret"], admin, sales):
        assert secret not in str(entries)
    for personal in ("kai@litware-test.io", "Kai called back", "VP Operations", "platinum-x9"):
        assert personal not in str(entries)  # the log names leads by id only
    assert "Zq9SeCrEtToKeN" in everything  # the rep's channel itself is kept, not logged

    by_ana = "ana@flowline.io (API key test sales)"
    only_sales = client.get("/api/audit", params={"actor": by_ana}, headers=as_admin).json()
    assert {e["action"] for e in only_sales} == {"lead.accept"}
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert client.get("/api/audit", params={"since": later}, headers=as_admin).json() == []


def test_a_since_outside_the_years_1_9999_in_utc_is_a_422_naming_it(
    client: TestClient, make_key: Callable[[Role], str]
) -> None:
    as_admin = bearer(make_key(Role.ADMIN))
    for since in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"):
        response = client.get("/api/audit", params={"since": since}, headers=as_admin)
        assert response.status_code == 422, response.text
        [problem] = response.json()["error"]["problems"]
        assert problem == {"field": "since", "message": "outside the years 1-9999 in UTC"}


def _all_rows(app: FastAPI) -> list[object]:
    metadata = MetaData()
    metadata.reflect(app.state.engine)
    with app.state.engine.connect() as connection:
        return [list(connection.execute(t.select())) for t in metadata.tables.values()]


def test_the_audit_page_is_for_admins(client: TestClient, app: FastAPI) -> None:
    from leadflow.web.auth import COOKIE

    now = datetime.now(UTC)
    with app.state.sessions() as session, session.begin():
        tokens = {}
        for email, role in (("ada@flowline.io", "admin"), ("max@flowline.io", "manager")):
            user = users.create_user(session, email=email, name=email[:3], role=role,
                                     password="correct-horse-battery", now=now)  # fmt: skip
            tokens[role] = users.start_session(session, user, now)
        session.add(AuditEntry(at=now, actor="<b>eve</b>", action="key.revoke", target="key:7",
                               details={"why": "<script>alert(1)</script>"}))  # fmt: skip
    client.cookies.set(COOKIE, tokens["manager"])
    assert client.get("/audit").status_code == 403
    client.cookies.set(COOKIE, tokens["admin"])
    page = client.get("/audit")
    assert page.status_code == 200 and "key.revoke" in page.text
    assert "<script>alert(1)</script>" not in page.text and "&lt;b&gt;eve" in page.text
    filtered = client.get("/audit", params={"actor": "nobody"})
    assert "key.revoke" not in filtered.text and "No entries." in filtered.text
    bad = client.get("/audit", params={"days": "soon"})
    assert bad.status_code == 200 and "days: a whole number of days" in bad.text
    with app.state.sessions() as session:
        assert session.scalar(select(AuditEntry.actor).where(AuditEntry.target == "key:7"))
