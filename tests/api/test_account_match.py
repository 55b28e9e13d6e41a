"""How a lead met its account is shown by the API; a free-mail lead links by company name."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from leadflow.core.roles import Role
from tests.api.conftest import bearer
from tests.api.test_segment import basic


def test_lead_shows_its_account_match(client: TestClient, make_key: Callable[[Role], str]) -> None:
    headers = bearer(make_key(Role.MARKETING))
    made = client.post("/api/leads", json={"email": "a@contoso.com", "company": "Contoso Ltd"},
                       headers=headers)  # fmt: skip
    assert made.status_code in (200, 201), made.text
    first = client.get("/api/leads/a@contoso.com", headers=headers).json()
    assert first["account_match"] == {"confidence": 1.0, "reason": "e-mail domain: contoso.com"}
    client.post("/api/leads", json={"email": "b@gmail.com", "company": "Contosso"}, headers=headers)
    second = client.get("/api/leads/b@gmail.com", headers=headers).json()
    assert second["account"]["domain"] == "contoso.com"
    assert second["account_match"]["confidence"] == 0.93
    assert second["account_match"]["reason"].startswith("company name: 'Contosso'")
    unknown = client.post("/api/leads", json={"email": "c@gmail.com", "company": "Tailspin"},
                          headers=headers)  # fmt: skip
    assert unknown.status_code == 422
    assert "no account's name is near 'Tailspin'" in unknown.json()["error"]["message"]


def test_identify_keeps_how_the_lead_met_its_account(
    client: TestClient, make_key: Callable[[Role], str]
) -> None:
    ingest, reader = basic(make_key(Role.INGEST)), bearer(make_key(Role.MARKETING))
    by_email = {"userId": "u1", "messageId": "i1", "traits": {"email": "a@eu.fabrikam.com"}}
    assert client.post("/v1/identify", json=by_email, headers=ingest).status_code == 200
    shown = client.get("/api/leads/a@eu.fabrikam.com", headers=reader).json()
    assert shown["account_match"] == {"confidence": 1.0, "reason": "e-mail domain: fabrikam.com"}
    traits = {"email": "b@gmail.com", "company": {"name": "Tailspin", "domain": "tailspin.io"}}
    given = {"userId": "u2", "messageId": "i2", "traits": traits}
    assert client.post("/v1/identify", json=given, headers=ingest).status_code == 200
    shown = client.get("/api/leads/b@gmail.com", headers=reader).json()
    assert shown["account_match"] == {"confidence": 1.0, "reason": "domain: tailspin.io"}
