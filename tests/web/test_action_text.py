"""The lead page's action form keeps the API's bounds on what a person types: a stage
action's reason at most 1,000 characters, a touch's text at most 5,000; longer is refused in
place, naming the field, and nothing is stored (not a megabyte in the history and alerts)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from leadflow.core.roles import Role
from leadflow.models.event import Event
from leadflow.models.lead import Lead
from leadflow.models.stage_change import StageChange
from tests.api.conftest import bearer
from tests.web.test_amount_form import signed_in


def sales_ready(client: TestClient, key: str, email: str) -> None:
    events = {"events": [{"email": email, "type": "track", "name": "Demo Requested"}]}
    assert client.post("/api/events", json=events, headers=bearer(key)).status_code == 200


@pytest.mark.parametrize(
    ("action", "length", "said"),
    [
        ("disqualify", 1001, "reason: at most 1,000 characters (1,001 given)"),
        ("touch", 5001, "text: at most 5,000 characters (5,001 given)"),
    ],
)
def test_text_longer_than_the_api_takes_is_refused_on_the_page(
    client: TestClient, app: FastAPI, make_key: Callable[[Role], str], action: str, length: int,
    said: str,
) -> None:  # fmt: skip
    sales_ready(client, make_key(Role.ADMIN), "long@acme.com")
    with app.state.sessions() as session:
        moves = session.scalar(select(func.count()).select_from(StageChange))
        events = session.scalar(select(func.count()).select_from(Event))
    csrf = signed_in(client, app)
    form = {"action": action, "reason": "x" * length, "csrf_token": csrf}
    answer = client.post("/leads/long@acme.com/act", data=form)
    assert said in answer.text
    with app.state.sessions() as session:
        lead = session.scalar(select(Lead).where(Lead.email == "long@acme.com"))
        assert lead is not None and lead.stage != "disqualified"
        assert session.scalar(select(func.count()).select_from(StageChange)) == moves
        assert session.scalar(select(func.count()).select_from(Event)) == events
    form["reason"] = "x" * (length - 1)  # at the bound: taken
    taken = client.post("/leads/long@acme.com/act", data=form, follow_redirects=False)
    assert taken.status_code == 303


@pytest.mark.parametrize("action", ["disqualify", "touch"])
def test_a_nul_character_is_refused_naming_its_field_on_every_engine(
    client: TestClient, app: FastAPI, make_key: Callable[[Role], str], action: str
) -> None:
    """SQLite stored it; PostgreSQL answered a 400 page naming no field."""
    email = "deal@acme.com"
    sales_ready(client, make_key(Role.ADMIN), email)
    csrf = signed_in(client, app)
    with app.state.sessions() as session:
        before = session.scalar(select(func.count()).select_from(StageChange))
    form = {"action": action, "reason": "call\x00 back", "csrf_token": csrf}
    answer = client.post(f"/leads/{email}/act", data=form)
    assert answer.status_code == 422
    assert "Reason: text holds a NUL character (\\u0000)" in answer.text  # the error page
    with app.state.sessions() as session:
        moves = session.scalar(select(func.count()).select_from(StageChange))
        touches = session.scalar(select(func.count()).where(Event.name == "Sales Touch"))
        lead = session.scalar(select(Lead).where(Lead.email == email))
    assert lead is not None and lead.stage == "sql" and touches == 0
    assert moves == before  # nothing stored


@pytest.mark.parametrize(
    ("path", "field"),
    [("/leads/a%00b@acme.com", "key"), ("/audit?actor=a%00b", "actor"),
     ("/dashboard?period=2026%00", "period")],
)  # fmt: skip
def test_a_nul_in_a_pages_query_or_path_is_refused_naming_it_on_every_engine(
    client: TestClient, app: FastAPI, path: str, field: str
) -> None:
    """As a NUL in a form: SQLite looked the value up, PostgreSQL answered a 400 page naming
    nothing."""
    signed_in(client, app)
    answer = client.get(path)
    assert answer.status_code == 422, answer.text
    assert f"{field.capitalize()}: text holds a NUL character (\\u0000)" in answer.text
