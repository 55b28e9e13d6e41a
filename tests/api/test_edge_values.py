"""Edge values a client can send get a 4xx with a clear message, never a 500 (issue 13)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from leadflow.core.roles import Role
from tests.api.conftest import bearer

RATES = "&rate=visit%3D0.02&rate=lead%3D0.5&rate=mql%3D0.4&rate=sql%3D0.25&rate=opportunity%3D0.2"
FORMULAS = {"source": "+cmd|' /C calc'!A0", "medium": "@SUM(1+1)",
            "name": '=HYPERLINK("http://evil.example","x")'}  # fmt: skip


def opportunity(client: TestClient, headers: dict[str, str], email: str) -> None:
    """A lead sales has converted into an opportunity."""
    events = {"events": [{"email": email, "type": "track", "name": "Demo Requested"}]}
    assert client.post("/api/events", json=events, headers=headers).status_code == 200
    converted = client.post(
        f"/api/leads/{email}/actions", json={"action": "convert"}, headers=headers
    )
    assert converted.status_code == 200, converted.text


@pytest.mark.parametrize("amount", ["1e400", '"inf"', '"Infinity"', '"NaN"', "1e13", "-1"])
def test_close_won_refuses_an_amount_that_is_not_finite_or_sane(
    client: TestClient, make_key: Callable[[Role], str], amount: str
) -> None:
    headers = {**bearer(make_key(Role.ADMIN)), "Content-Type": "application/json"}
    opportunity(client, headers, "deal@acme.com")
    body = '{"action": "close_won", "amount": ' + amount + "}"
    won = client.post("/api/leads/deal@acme.com/actions", content=body, headers=headers)
    assert won.status_code == 422, won.text
    assert "amount" in won.json()["error"]["message"]
    funnel = client.get("/api/reports/attribution", headers=headers)
    assert funnel.status_code == 200, funnel.text


def test_csv_cells_that_spreadsheets_would_run_are_neutralised(
    client: TestClient, make_key: Callable[[Role], str]
) -> None:
    headers = bearer(make_key(Role.ADMIN))
    events = {"events": [{"email": "f@acme.com", "type": "identify",
                          "context": {"campaign": FORMULAS}}]}  # fmt: skip
    assert client.post("/api/events", json=events, headers=headers).status_code == 200
    for by, formula in (("source", FORMULAS["source"]), ("medium", FORMULAS["medium"]),
                        ("campaign", FORMULAS["name"])):  # fmt: skip
        text = client.get(f"/api/reports/conversion?by={by}&format=csv", headers=headers).text
        cells = [row[by] for row in csv.DictReader(io.StringIO(text))]
        assert "'" + formula in cells, (by, cells)
        assert not any(c.startswith(("=", "+", "-", "@", "\t", "\r")) for c in cells)


def test_a_playbook_nested_3000_deep_is_a_validation_error(
    client: TestClient, make_key: Callable[[Role], str]
) -> None:
    headers = {**bearer(make_key(Role.ADMIN)), "Content-Type": "application/yaml"}
    text = "scoring: " + "[" * 3000 + "]" * 3000 + "\n"
    for path in ("/api/playbook/validate", "/api/playbook/apply"):
        response = client.post(path, content=text, headers=headers)
        assert response.status_code == 422, response.text
        assert "nested too deeply" in response.text


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/leads?offset=9223372036854775808", None),
        ("GET", "/api/accounts?offset=99999999999999999999999", None),
        ("GET", "/api/leads/%C2%B2", None),
        ("GET", "/api/leads/99999999999999999999999", None),
        ("GET", "/api/accounts/%C2%B2", None),
        ("GET", "/api/accounts/99999999999999999999999", None),
        # More digits than Python turns into an int (4,300): no row has such an id either.
        ("GET", "/api/leads/" + "1" * 5000, None),
        ("POST", "/api/leads/" + "1" * 5000 + "/notes", {"text": "hello"}),
        ("GET", "/api/accounts/" + "1" * 5000, None),
        ("PATCH", "/api/reps/99999999999999999999999", {"capacity": 3}),
        ("DELETE", "/api/goals/99999999999999999999999", None),
        ("POST", "/api/leads", {"email": "big@acme.com", "employees": 2**70}),
        ("POST", "/api/accounts", {"domain": "acme.com", "employees": 2**70}),
        ("POST", "/api/accounts", {"domain": "acme.com", "annual_revenue": "inf"}),
        ("PATCH", "/api/reps/1", {"active": None}),
        ("GET", "/api/plan?goal=1000000&deal_size=5e-324" + RATES, None),
        ("GET", "/api/plan?goal=inf&deal_size=20000" + RATES, None),
        ("GET", "/api/plan?goal=1000000&deal_size=20000&period=0001-03" + RATES, None),
        ("GET", "/api/reports/funnel?period=0001-03", None),
        ("POST", "/api/goals", {"name": "g", "period": "2026", "revenue": "inf"}),
    ],
)
def test_edge_values_are_a_4xx_with_a_message(
    client: TestClient, make_key: Callable[[Role], str], method: str, path: str, body: object
) -> None:
    headers = bearer(make_key(Role.ADMIN))
    rep = {"email": "r@acme.com", "name": "R", "team": "t"}
    assert client.post("/api/reps", json=rep, headers=headers).status_code == 201
    response = client.request(method, path, json=body, headers=headers)
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["error"]["message"]


@pytest.mark.parametrize(
    "raw",
    [
        b'{"email": "n@acme.com", "attributes": {"n": ' + b"9" * 5000 + b"}}",
        b'{"email": "n@acme.com", "attributes": {"n": ' + b"[" * 100_000 + b"]" * 100_000 + b"}}",
        b'{"email": "n@acme.com", "attributes": {"n": "\\ud800"}}',
        b'{"email": "n@acme.com", "first_name": "\\udfff"}',
        # The same surrogate as raw bytes: Python's JSON reader lets them through unescaped.
        b'{"email": "n@acme.com", "attributes": {"n": "x\xed\xa0\x80"}}',
        b'{"email": "n@acme.com", "first_name": "\xed\xbf\xbf"}',
    ],
    ids=["digits", "deep", "surrogate", "low-surrogate", "raw-surrogate", "raw-low-surrogate"],
)
def test_bodies_no_database_can_hold_are_refused(
    client: TestClient, make_key: Callable[[Role], str], raw: bytes
) -> None:
    headers = {**bearer(make_key(Role.ADMIN)), "Content-Type": "application/json"}
    response = client.post("/api/leads", content=raw, headers=headers)
    assert response.status_code == 422, response.text
    ingest = make_key(Role.INGEST)
    tracked = client.post("/v1/identify", content=raw.replace(b'"email"', b'"userId"'),
                          auth=(ingest, ""))  # fmt: skip
    assert tracked.status_code == 400, tracked.text


@pytest.mark.parametrize("value", ["inf", "nan", 2**70, "1e400", 1e300])
def test_absurd_company_figures_in_traits_are_ignored_not_fatal(
    client: TestClient, make_key: Callable[[Role], str], value: object
) -> None:
    traits = {"name": "Acme", "employees": value, "annual_revenue": value}
    message = {"userId": "e@acme.com", "groupId": "acme.com", "traits": traits}
    response = client.post("/v1/group", json=message, auth=(make_key(Role.INGEST), ""))
    assert response.status_code == 200, response.text
    account = client.get("/api/accounts/acme.com", headers=bearer(make_key(Role.ADMIN))).json()
    assert account["employees"] is None


def test_a_batch_with_raw_surrogate_bytes_is_refused_and_stores_nothing(
    client: TestClient, make_key: Callable[[Role], str]
) -> None:
    ingest, admin = make_key(Role.INGEST), bearer(make_key(Role.ADMIN))
    good = b'{"userId": "kept@acme.com", "type": "track", "event": "Viewed"}'
    bad = b'{"userId": "v@acme.com", "type": "track", "event": "Viewed",'
    bad += b' "properties": {"path": "/p\xed\xa0\x80"}}'
    batch = b'{"batch": [' + good + b", " + bad + b"]}"
    response = client.post("/v1/batch", content=batch, auth=(ingest, ""))
    assert response.status_code == 400, response.text
    assert "batch[1].properties.path" in response.text
    assert client.get("/api/leads/kept@acme.com", headers=admin).status_code == 404


def test_a_trait_number_beyond_any_float_scores_as_no_number(
    client: TestClient, make_key: Callable[[Role], str]
) -> None:
    """A 401-digit budget from the public key neither crashes scoring nor blocks a playbook."""
    admin = bearer(make_key(Role.ADMIN))
    chairs = (Path(__file__).parents[2] / "examples" / "b2c_chairs.yaml").read_text()
    body = b'{"userId": "big@acme.com", "traits": {"email": "big@acme.com", "chair_budget": '
    body += b"1" + b"0" * 400 + b"}}"
    sent = client.post("/v1/identify", content=body, auth=(make_key(Role.INGEST), ""))
    assert sent.status_code == 200, sent.text
    dry = client.post("/api/playbook/apply?dry_run=true", json={"content": chairs}, headers=admin)
    assert dry.status_code == 200, dry.text
    applied = client.post("/api/playbook/apply", json={"content": chairs}, headers=admin)
    assert applied.status_code == 200, applied.text
    again = client.post("/v1/identify", content=body, auth=(make_key(Role.INGEST), ""))
    assert again.status_code == 200, again.text
    lead = client.get("/api/leads/big@acme.com", headers=admin).json()
    assert lead["persona"] is None


VIEWED_NUL = {
    "email": "kept@acme.com",
    "type": "track",
    "name": "Viewed",
    "properties": {"p": "\0"},
}


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/leads", {"email": "n@acme.com", "first_name": "A\u0000da"}, "first_name"),
        ("/api/leads", {"email": "n@acme.com", "attributes": {"n": "x\u0000"}}, "attributes.n"),
        ("/api/leads/kept@acme.com/notes", {"text": "call\u0000 back"}, "text"),
        ("/api/events", {"events": [VIEWED_NUL]}, "events[0].properties.p"),
    ],
    ids=["column", "attribute", "note", "event"],
)
def test_a_nul_character_is_refused_naming_its_field_on_every_engine(
    client: TestClient, make_key: Callable[[Role], str], path: str, body: object, field: str
) -> None:
    """SQLite stored it; PostgreSQL refused the request with a 400 naming no field."""
    admin = bearer(make_key(Role.ADMIN))
    assert client.post("/api/leads", json={"email": "kept@acme.com"}, headers=admin).is_success
    response = client.post(path, json=body, headers=admin)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["message"].startswith(f"{field}: ") and "NUL" in error["message"], error
    assert [p["field"] for p in error["problems"]] == [field]
    assert client.get("/api/leads/n@acme.com", headers=admin).status_code == 404
    shown = client.get("/api/leads/kept@acme.com", headers=admin).json()
    assert [e for e in shown["events"] if e["type"] == "track"] == []  # nothing stored
    # What the public write key sends keeps Segment's leniency: NUL is dropped, as before.
    tracked = {"userId": "kept@acme.com", "event": "Viewed", "properties": {"p": "a\u0000b"}}
    assert client.post("/v1/track", json=tracked, auth=(make_key(Role.INGEST), "")).is_success


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/leads?persona=a%00b", "persona"),
        ("/api/leads?owner=a%00b", "owner"),
        ("/api/accounts?tier=a%00b", "tier"),
        ("/api/reports/funnel?source=a%00b", "source"),
        ("/api/accounts/a%00b.com", "key"),
        ("/api/leads/a%00b@acme.com", "key"),
    ],
)
def test_a_nul_in_a_query_or_path_parameter_is_refused_naming_it_on_every_engine(
    client: TestClient, make_key: Callable[[Role], str], path: str, field: str
) -> None:
    """SQLite looked the value up (and found nothing); PostgreSQL answered a 400 naming no
    parameter, as it did for a NUL in a body."""
    response = client.get(path, headers=bearer(make_key(Role.ADMIN)))
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["message"] == f"{field}: text holds a NUL character (\\u0000)", error
    assert [p["field"] for p in error["problems"]] == [field]
