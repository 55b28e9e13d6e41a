"""`accept` with an API key: a key is not a person, so the lead's owner is a rep, never the
key's name (which no rep's queue shows)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from leadflow.core.roles import Role
from tests.api.conftest import bearer


def sales_ready(client: TestClient, key: str, email: str) -> None:
    events = {"events": [
        {"email": email, "type": "identify", "properties": {"title": "VP Operations"}},
        {"email": email, "type": "track", "name": "Demo Requested"},
    ]}  # fmt: skip
    assert client.post("/api/events", json=events, headers=bearer(key)).status_code == 200


def accept(client: TestClient, key: str, email: str, **extra: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    answer = client.post(
        f"/api/leads/{email}/actions", json={"action": "accept", **extra}, headers=bearer(key)
    )
    return answer.status_code, answer.json()


def test_accepting_an_unassigned_lead_by_key_names_the_rep_who_takes_it(
    client: TestClient, make_key: Callable[[Role], str]
) -> None:
    admin, sales = make_key(Role.ADMIN), make_key(Role.SALES)
    sales_ready(client, admin, "kai@litware.io")
    status, body = accept(client, sales, "kai@litware.io")
    assert status == 422
    assert body["error"]["problems"][0]["field"] == "rep"
    status, body = accept(client, sales, "kai@litware.io", rep="nobody@flowline.io")
    assert status == 422 and "nobody@flowline.io" in body["error"]["message"]
    rep = {"email": "ana@flowline.io", "name": "Ana", "team": "smb"}
    assert client.post("/api/reps", json=rep, headers=bearer(admin)).status_code == 201
    status, body = accept(client, sales, "kai@litware.io", rep="Ana@flowline.io")
    assert status == 200, body
    assert body["owner"] == "ana@flowline.io"
    assert body["transition"]["actor"] == "ana@flowline.io (API key test sales)"
    mine = client.get("/api/leads?owner=ana@flowline.io", headers=bearer(sales)).json()
    assert [lead["email"] for lead in mine["items"]] == ["kai@litware.io"]


def test_an_assigned_lead_stays_with_its_rep(
    client: TestClient, make_key: Callable[[Role], str]
) -> None:
    admin, sales = make_key(Role.ADMIN), make_key(Role.SALES)
    for email in ("bo@flowline.io", "cy@flowline.io"):
        rep = {"email": email, "name": email, "team": "inbound",
               "working_hours": "mon-sun 00:00-24:00"}  # fmt: skip
        assert client.post("/api/reps", json=rep, headers=bearer(admin)).status_code == 201
    sales_ready(client, admin, "zoe@unlisted-co.io")
    owner = client.get("/api/leads/zoe@unlisted-co.io", headers=bearer(sales)).json()["owner"]
    assert owner in ("bo@flowline.io", "cy@flowline.io")
    other = "cy@flowline.io" if owner == "bo@flowline.io" else "bo@flowline.io"
    status, body = accept(client, sales, "zoe@unlisted-co.io", rep=other)
    assert status == 409 and owner in body["error"]["message"]
    status, body = accept(client, sales, "zoe@unlisted-co.io")
    assert status == 200 and body["owner"] == owner
