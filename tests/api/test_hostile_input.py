"""Input a careless or hostile client can send: refused with a clear 4xx, never stored, never a 500.

NaN and Infinity (rows 2 and 8 of issue 13), one bad message in a batch (row 3).
"""

from __future__ import annotations

import base64
import gzip
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from leadflow.core.roles import Role
from leadflow.models.event import Event
from leadflow.models.lead import Lead
from tests.api.conftest import bearer


def basic(key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


def stored_events(app: FastAPI) -> int:
    with app.state.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Event)) or 0)


def leads_named(app: FastAPI, email: str) -> int:
    with app.state.sessions() as session:
        return int(session.scalar(select(func.count()).where(Lead.email == email)) or 0)


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_a_non_finite_trait_is_a_400_naming_it_and_nothing_is_stored(
    client: TestClient, app: FastAPI, make_key: Callable[[Role], str], number: str
) -> None:
    body = '{"userId": "nan@acme.com", "traits": {"email": "nan@acme.com", "budget": %s}}'
    response = client.post(
        "/v1/identify", content=body % number, headers=basic(make_key(Role.INGEST))
    )
    assert response.status_code == 400, response.text
    assert "traits.budget" in response.json()["error"]["message"]
    assert leads_named(app, "nan@acme.com") == 0


def test_gzip_bodies_and_batches_are_read_strictly_too(
    client: TestClient, app: FastAPI, make_key: Callable[[Role], str]
) -> None:
    body = '{"batch": [{"type": "track", "userId": "a@acme.com", "event": "X",'
    body += ' "properties": {"n": NaN}}]}'
    headers = {**basic(make_key(Role.INGEST)), "Content-Encoding": "gzip"}
    response = client.post("/v1/batch", content=gzip.compress(body.encode()), headers=headers)
    assert response.status_code == 400, response.text
    assert "batch[0].properties.n" in response.json()["error"]["message"]
    assert stored_events(app) == 0


def test_the_rest_api_refuses_nan_with_a_422_naming_the_field(
    client: TestClient, app: FastAPI, make_key: Callable[[Role], str]
) -> None:
    body = '{"email": "nan@acme.com", "attributes": {"budget": NaN}}'
    headers = {**bearer(make_key(Role.ADMIN)), "Content-Type": "application/json"}
    response = client.post("/api/leads", content=body, headers=headers)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["problems"] == [
        {
            "field": "attributes.budget",
            "message": "NaN is not a JSON number (numbers must be finite)",
        }
    ]
    assert leads_named(app, "nan@acme.com") == 0


def test_nothing_stores_a_non_finite_number_in_a_json_column(app: FastAPI) -> None:
    from sqlalchemy.exc import StatementError

    from leadflow.core.errors import Invalid
    from tests.api.conftest import NOW

    with app.state.sessions() as session, pytest.raises((StatementError, Invalid)) as caught:
        session.add(Lead(email="x@acme.com", attributes={"budget": float("nan")},
                         created_at=NOW, updated_at=NOW))  # fmt: skip
        session.flush()
    # SQLite's driver binds inside SQLAlchemy (which wraps the error), psycopg's outside it.
    refused = getattr(caught.value, "orig", caught.value)
    assert isinstance(refused, Invalid) and "not finite" in refused.message


@pytest.mark.parametrize(
    "bad",
    [
        {"context": {"traits": "s"}},
        {"timestamp": "0001-01-01T00:00:00+14:00"},
        {"timestamp": "0001-01-02T00:00:00Z", "sentAt": "9999-12-31T00:00:00Z"},
    ],
)
def test_one_bad_message_is_rejected_by_index_and_the_rest_stored(
    client: TestClient, app: FastAPI, make_key: Callable[[Role], str], bad: dict[str, object]
) -> None:
    good = {"type": "track", "userId": "ok@acme.com", "event": "Viewed"}
    batch = [
        {**good, "messageId": "m1"},
        {**good, "messageId": "m2", **bad},
        {**good, "messageId": "m3"},
    ]
    response = client.post("/v1/batch", json={"batch": batch}, headers=basic(make_key(Role.INGEST)))
    assert response.status_code == 200, response.text
    assert response.json()["stored"] == 2
    assert [r["index"] for r in response.json()["rejected"]] == [1]
    assert stored_events(app) == 2


def test_api_events_names_the_bad_event_and_stores_nothing(
    client: TestClient, app: FastAPI, make_key: Callable[[Role], str]
) -> None:
    good = {"email": "ok@acme.com", "name": "Viewed"}
    events = [
        good,
        {**good, "context": {"traits": "s"}},
        {**good, "timestamp": "0001-01-01T00:00:00+14:00"},
    ]
    response = client.post(
        "/api/events", json={"events": events}, headers=bearer(make_key(Role.ADMIN))
    )
    assert response.status_code == 422, response.text
    fields = [p["field"] for p in response.json()["error"]["problems"]]
    assert fields == ["events[1]", "events[2]"]
    assert stored_events(app) == 0


def test_after_a_refused_nan_rescore_and_playbook_apply_still_work(
    client: TestClient, make_key: Callable[[Role], str], database_url: str
) -> None:
    from typer.testing import CliRunner

    from leadflow.cli.main import app as cli
    from tests.api.conftest import EXAMPLES

    key = make_key(Role.INGEST)
    nan = '{"userId": "n@acme.com", "traits": {"email": "n@acme.com", "budget": NaN}}'
    assert client.post("/v1/identify", content=nan, headers=basic(key)).status_code == 400
    ok = {"userId": "n@acme.com", "traits": {"email": "n@acme.com", "budget": 5000}}
    assert client.post("/v1/identify", json=ok, headers=basic(key)).status_code == 200
    runner = CliRunner()
    for args in (["rescore"], ["playbook", "apply", str(EXAMPLES / "b2b_saas.yaml")]):
        result = runner.invoke(cli, ["--db", database_url, *args])
        assert result.exit_code == 0, result.output
    admin = bearer(make_key(Role.ADMIN))
    text = (EXAMPLES / "b2b_saas.yaml").read_text()
    applied = client.post("/api/playbook/apply", json={"content": text}, headers=admin)
    assert applied.status_code == 200, applied.text
