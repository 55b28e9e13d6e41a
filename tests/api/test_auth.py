"""401 without a valid key, 403 for a key whose role does not allow the endpoint."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.testclient import TestClient

from leadflow.api.deps import require
from leadflow.core.roles import Permission, Role
from leadflow.services import keys
from tests.api.conftest import NOW, bearer


def _probe(app: FastAPI) -> None:
    router = APIRouter()

    @router.get("/api/_probe", dependencies=[Depends(require(Permission.PLAYBOOK))])
    def probe() -> dict[str, bool]:
        return {"ok": True}

    app.include_router(router)


def test_missing_unknown_and_revoked_keys_are_401(
    app: FastAPI, client: TestClient, make_key: Callable[[Role], str]
) -> None:
    _probe(app)
    missing = client.get("/api/_probe")
    assert missing.status_code == 401
    assert "Authorization: Bearer KEY" in missing.json()["error"]["message"]
    assert missing.headers["www-authenticate"] == "Bearer"
    assert client.get("/api/_probe", headers=bearer("lf_admin_nope")).status_code == 401
    key = make_key(Role.ADMIN)
    assert client.get("/api/_probe", headers=bearer(key)).status_code == 200
    with app.state.sessions() as session, session.begin():
        stored = keys.authenticate(session, key, NOW + timedelta(hours=1))
        assert stored is not None
        keys.revoke(session, stored.id, NOW + timedelta(hours=1))
    assert client.get("/api/_probe", headers=bearer(key)).status_code == 401


def test_roles_without_the_permission_are_403(
    app: FastAPI, client: TestClient, make_key: Callable[[Role], str]
) -> None:
    _probe(app)
    for role, status in [
        (Role.INGEST, 403),
        (Role.SALES, 403),
        (Role.MARKETING, 200),
        (Role.ADMIN, 200),
    ]:
        response = client.get("/api/_probe", headers=bearer(make_key(role)))
        assert response.status_code == status, role
    refused = client.get("/api/_probe", headers=bearer(make_key(Role.SALES)))
    assert refused.json()["error"]["message"] == (
        "a sales key may not do this (needs playbook permission)"
    )


# One call per capability of the README's table ("API keys and roles"), and who may make it.
CAPABILITIES: list[tuple[str, str, str, dict[str, Any], set[Role]]] = [
    ("send events", "POST", "/v1/track",
     {"userId": "u-1", "event": "Signed Up", "messageId": "cap-1"},
     {Role.INGEST, Role.MARKETING, Role.ADMIN}),
    ("read", "GET", "/api/leads", {}, {Role.MARKETING, Role.SALES, Role.ADMIN}),
    ("create leads", "POST", "/api/leads", {"email": "new.lead@capable-test.io"},
     {Role.MARKETING, Role.SALES, Role.ADMIN}),
    ("edit leads", "PATCH", "/api/leads/probe@capable-test.io", {"title": "CTO"},
     {Role.MARKETING, Role.SALES, Role.ADMIN}),
    ("create accounts", "POST", "/api/accounts", {"domain": "capable-test.io"},
     {Role.MARKETING, Role.ADMIN}),
    ("create events", "POST", "/api/events",
     {"events": [{"email": "probe@capable-test.io", "type": "track", "name": "Signed Up"}]},
     {Role.MARKETING, Role.ADMIN}),
    ("validate the playbook", "POST", "/api/playbook/validate", {"content": "x: 1"},
     {Role.MARKETING, Role.ADMIN}),
    ("apply the playbook", "POST", "/api/playbook/apply?dry_run=true", {"content": "x: 1"},
     {Role.MARKETING, Role.ADMIN}),
    ("stage actions", "POST", "/api/leads/probe@capable-test.io/actions",
     {"action": "disqualify", "reason": "a probe"}, {Role.SALES, Role.ADMIN}),
    ("touches", "POST", "/api/leads/probe@capable-test.io/touches",
     {"channel": "call", "text": "a probe"}, {Role.SALES, Role.ADMIN}),
    ("admin: keys, reps, people", "GET", "/api/audit", {}, {Role.ADMIN}),
]  # fmt: skip


def test_every_role_may_do_exactly_what_the_readme_table_says(
    client: TestClient, make_key: Callable[[Role], str]
) -> None:
    keys = {role: make_key(role) for role in Role}
    lead = {"email": "probe@capable-test.io"}
    assert client.post("/api/leads", json=lead, headers=bearer(keys[Role.ADMIN])).status_code == 201
    for what, method, path, body, allowed in CAPABILITIES:
        for role, key in keys.items():
            if path.startswith("/v1"):
                basic = base64.b64encode(f"{key}:".encode()).decode()
                headers = {"Authorization": f"Basic {basic}"}
            else:
                headers = bearer(key)
            sent = client.request(method, path, json=body or None, headers=headers)
            if role in allowed:
                assert sent.status_code not in (401, 403), (what, role, sent.text)
            else:
                assert sent.status_code == 403, (what, role, sent.status_code)
