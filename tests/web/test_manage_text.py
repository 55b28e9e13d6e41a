"""What the pages that change the agreement say (no browser): the plan's refusal names the
page's own Rates field, and a preview says what applying would do."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi import FastAPI
from fastapi.testclient import TestClient

from leadflow.core.roles import Role
from leadflow.services import shadow
from tests.api.conftest import EXAMPLES, NOW, bearer
from tests.web.test_security import signed_in

B2B = (EXAMPLES / "b2b_saas.yaml").read_text()
CANDIDATE = B2B.replace("name: Flowline B2B SaaS", "name: Flowline B2B SaaS, renamed")


def seed(client: TestClient, key: str) -> None:
    events = {"events": [{"email": "ann@unlisted-co.io", "type": "track", "name": "Demo Requested"},
                         {"email": "bo@unlisted-co.io", "type": "page",
                          "properties": {"path": "/pricing"}}]}  # fmt: skip
    assert client.post("/api/events", json=events, headers=bearer(key)).status_code == 200


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def change_card(html: str) -> str:
    """The preview's card, as text: from its heading to the diff."""
    shown = text_of(html)
    return shown[shown.index("What ") : shown.index("Diff")]


def test_the_plan_page_asks_for_a_rate_in_its_rates_field(app: FastAPI, client: TestClient) -> None:
    """The page said 'give --rate visit=R', a command-line flag, beside its Rates field."""
    signed_in(app, client, "max@flowline.io", "manager")
    page = client.get("/plan?goal=1000000&deal_size=20000")
    assert page.status_code == 200
    error = text_of(page.text[page.text.index('class="error"') :].split("</p>")[0])
    assert "no measured rate for visit in the last 180 days (0 of 0)" in error, error
    assert "--rate" not in error, error
    assert "give visit=R in the Rates field" in error, error


def test_the_playbook_preview_says_what_applying_would_do(
    app: FastAPI, client: TestClient, make_key: Callable[[Role], str]
) -> None:
    """The preview said 'N leads re-scored' of leads it had not re-scored."""
    seed(client, make_key(Role.MARKETING))
    csrf = signed_in(app, client, "mia@flowline.io", "marketing")
    form = {"csrf_token": csrf, "content": CANDIDATE, "intent": "preview"}
    shown = change_card(client.post("/playbook", data=form).text)
    assert "would re-score 2 leads" in shown, shown
    assert "leads re-scored" not in shown
    with app.state.sessions() as session, session.begin():
        shadow.start(session, CANDIDATE, author="tests", now=NOW)
    promoted = client.post("/playbook/promote", data={"csrf_token": csrf, "intent": "preview"})
    shown = change_card(promoted.text)
    assert "would re-score 2 leads" in shown, shown
    assert "leads re-scored" not in shown


def test_the_plan_page_reads_a_goal_as_typed_and_refuses_a_comma_of_no_thousands(
    app: FastAPI, client: TestClient
) -> None:
    """Every comma was dropped: a goal of `1,5` was planned as 15."""
    signed_in(app, client, "max@flowline.io", "manager")
    refused = text_of(client.get("/plan", params={"goal": "1,5", "deal_size": "20000"}).text)
    assert "goal: '1,5' is not a number" in refused.replace("&#39;", "'"), refused
    typed = text_of(client.get("/plan", params={"goal": "$1,000,000", "deal_size": "20 000"}).text)
    assert "is not a number" not in typed.replace("&#39;", "'")
    assert "no measured rate for visit" in typed  # read as numbers: the plan asked for rates
