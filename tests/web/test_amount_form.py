"""The lead page's action form refuses an infinite amount with a message, not a poisoned report."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from leadflow.core.roles import Role
from leadflow.models.lead import Lead
from leadflow.services import users
from tests.api.conftest import bearer

PASSWORD = "correct-horse-battery"


def signed_in(client: TestClient, app: FastAPI) -> str:
    """Sign an admin in through the form; the page's CSRF token for later posts."""
    with app.state.sessions() as session, session.begin():
        users.create_user(session, email="ada@flowline.io", name="Ada", role="admin",
                          password=PASSWORD, now=datetime.now(UTC))  # fmt: skip
    form = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token is not None
    fields = {"email": "ada@flowline.io", "password": PASSWORD, "csrf_token": token[1]}
    assert client.post("/login", data={**fields, "next": "/"}).status_code == 200
    page = client.get("/dashboard").text
    csrf = re.search(r'"X-CSRF-Token": "([^"]+)"', page)
    assert csrf is not None
    return csrf[1]


@pytest.mark.parametrize("amount", ["inf", "1e400", "nan"])
def test_close_won_with_an_infinite_amount_is_refused_on_the_page(
    client: TestClient, app: FastAPI, make_key: Callable[[Role], str], amount: str
) -> None:
    headers = bearer(make_key(Role.ADMIN))
    events = {"events": [{"email": "deal@acme.com", "type": "track", "name": "Demo Requested"}]}
    assert client.post("/api/events", json=events, headers=headers).status_code == 200
    convert = {"action": "convert"}
    assert client.post("/api/leads/deal@acme.com/actions", json=convert, headers=headers).is_success
    csrf = signed_in(client, app)
    form = {"action": "close_won", "amount": amount, "reason": "", "csrf_token": csrf}
    answer = client.post("/leads/deal@acme.com/act", data=form)
    assert answer.status_code == 200 and "not a number an amount can be" in answer.text
    with app.state.sessions() as session:
        lead = session.scalar(select(Lead).where(Lead.email == "deal@acme.com"))
        assert lead is not None and lead.stage == "opportunity" and lead.outcome_amount is None
    assert client.get("/api/reports/attribution", headers=headers).status_code == 200


@pytest.mark.parametrize("field", ["amount", "reason"])  # the queue's one field holds it too
def test_an_amount_of_400_nines_is_refused_naming_what_was_typed(
    client: TestClient, app: FastAPI, make_key: Callable[[Role], str], field: str
) -> None:
    headers = bearer(make_key(Role.ADMIN))
    events = {"events": [{"email": "deal@acme.com", "type": "track", "name": "Demo Requested"}]}
    assert client.post("/api/events", json=events, headers=headers).status_code == 200
    csrf = signed_in(client, app)
    form = {"action": "convert", "amount": "", "reason": "", "csrf_token": csrf, field: "9" * 400}
    answer = client.post("/leads/deal@acme.com/act", data=form)
    said = "amount: &#39;9999999999999999…99999999&#39; (400 characters) is not a number"
    assert answer.status_code == 200 and said in answer.text
    plan = client.get("/plan", params={"goal": "9" * 400}).text
    assert "goal: &#39;9999999999999999…99999999&#39; (400 characters)" in plan


@pytest.mark.parametrize(("typed", "stored"), [("12 500 €", 12500.0), ("1,5", None)])
def test_an_amount_is_read_as_every_form_reads_one(
    client: TestClient, app: FastAPI, make_key: Callable[[Role], str], typed: str,
    stored: float | None,
) -> None:  # fmt: skip
    """The lead page had its own reader: a currency sign after the figure was no amount."""
    headers = bearer(make_key(Role.ADMIN))
    events = {"events": [{"email": "deal@acme.com", "type": "track", "name": "Demo Requested"}]}
    assert client.post("/api/events", json=events, headers=headers).status_code == 200
    assert client.post("/api/leads/deal@acme.com/actions", json={"action": "convert"},
                       headers=headers).is_success  # fmt: skip
    csrf = signed_in(client, app)
    form = {"action": "close_won", "amount": typed, "reason": "", "csrf_token": csrf}
    answer = client.post("/leads/deal@acme.com/act", data=form)
    assert answer.status_code == 200
    with app.state.sessions() as session:
        lead = session.scalar(select(Lead).where(Lead.email == "deal@acme.com"))
        assert lead is not None and lead.outcome_amount == stored
    if stored is None:
        assert "amount: &#39;1,5&#39; is not an amount" in answer.text
