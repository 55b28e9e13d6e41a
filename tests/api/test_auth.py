"""401 without a valid key, 403 for a key whose role does not allow the endpoint."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

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
