"""/api/playbook/shadow, /compare, /backtest and /promote: roles, errors, the whole round."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from leadflow.core.roles import Role
from tests.api.conftest import bearer

Headers = dict[str, str]


@pytest.fixture
def marketing(make_key: Callable[[Role], str]) -> Headers:
    return bearer(make_key(Role.MARKETING))


@pytest.fixture
def sales(make_key: Callable[[Role], str]) -> Headers:
    return bearer(make_key(Role.SALES))


def _candidate(client: TestClient, headers: Headers) -> str:
    text: str = client.get("/api/playbook", headers=headers).json()["content"]
    lower = text.replace("{field: engagement, gte: 30}", "{field: engagement, gte: 0}")
    lower = lower.replace("{field: fit, gte: 40}", "{field: fit, gte: 0}")
    assert lower != text
    return lower


def _demo_requests(client: TestClient, headers: Headers, n: int) -> None:
    for k in range(n):
        who = f"p{k}@acme{k}.io"
        events = {"events": [
            {"email": who, "type": "identify", "properties": {"title": "VP Operations"}},
            {"email": who, "type": "page", "properties": {"path": "/pricing"}},
        ]}  # fmt: skip
        assert client.post("/api/events", json=events, headers=headers).status_code == 200


def test_shadow_compare_and_promote(client: TestClient, marketing: Headers) -> None:
    text = _candidate(client, marketing)
    assert client.get("/api/playbook/compare", headers=marketing).status_code == 404
    started = client.post("/api/playbook/shadow", json={"content": text}, headers=marketing)
    assert started.status_code == 200 and started.json()["version"] == 2
    _demo_requests(client, marketing, 3)
    figures = client.get("/api/playbook/compare", headers=marketing).json()
    assert figures["mode"] == "shadow" and figures["leads"] == 3
    assert figures["candidate"]["mqls"] > figures["active"]["mqls"]
    assert figures["disagree"]["candidate_only"] == len(figures["disagree"]["leads"]) > 0
    assert client.get("/api/playbook", headers=marketing).json()["version"] == 1  # not acted on
    versions = client.get("/api/playbook/versions", headers=marketing).json()
    assert [(v["version"], v["active"], v["shadow"]) for v in versions] == [
        (2, False, True),
        (1, True, False),
    ]
    preview = client.post("/api/playbook/promote?dry_run=true", headers=marketing).json()
    assert preview["dry_run"] and "gte: 0}" in preview["diff"]
    assert client.get("/api/playbook/compare", headers=marketing).status_code == 200  # kept
    promoted = client.post("/api/playbook/promote", headers=marketing).json()
    assert promoted["version"] == 2 and promoted["leads_rescored"] == 3
    assert client.get("/api/playbook", headers=marketing).json()["version"] == 2
    assert client.get("/api/playbook/compare", headers=marketing).status_code == 404


def test_backtest_changes_nothing(client: TestClient, marketing: Headers) -> None:
    _demo_requests(client, marketing, 2)
    text = _candidate(client, marketing)
    before = client.get("/api/leads/p0@acme0.io", headers=marketing).json()
    figures = client.post("/api/playbook/backtest", json={"content": text}, headers=marketing)
    assert figures.status_code == 200 and figures.json()["leads"] == 2
    assert client.get("/api/leads/p0@acme0.io", headers=marketing).json() == before
    assert client.get("/api/playbook/versions", headers=marketing).json()[0]["version"] == 1


def test_roles_and_bad_input(client: TestClient, marketing: Headers, sales: Headers) -> None:
    text = _candidate(client, marketing)
    for path in ("/api/playbook/shadow", "/api/playbook/backtest"):
        assert client.post(path, json={"content": text}, headers=sales).status_code == 403
        bad = client.post(path, json={"content": "name: x\nfit: 3\n"}, headers=marketing)
        assert bad.status_code == 422 and bad.json()["error"]["problems"]
    assert client.post("/api/playbook/promote", headers=sales).status_code == 403
    missing = client.post("/api/playbook/promote", headers=marketing)
    assert missing.status_code == 404 and "playbook shadow" in missing.json()["error"]["message"]
    assert client.delete("/api/playbook/shadow", headers=marketing).status_code == 404
    active = client.get("/api/playbook", headers=marketing).json()["content"]
    same = client.post("/api/playbook/shadow", json={"content": active}, headers=marketing)
    assert same.status_code == 409
    client.post("/api/playbook/shadow", json={"content": text}, headers=marketing)
    assert client.get("/api/playbook/compare", headers=sales).status_code == 200  # a read
    assert client.delete("/api/playbook/shadow", headers=marketing).json()["shadow"] is False
