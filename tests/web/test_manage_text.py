"""What the pages that change the agreement say (no browser): the plan's refusal names the
page's own Rates field, and a preview says what applying would do."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.web.test_security import signed_in


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_plan_page_asks_for_a_rate_in_its_rates_field(app: FastAPI, client: TestClient) -> None:
    """The page said 'give --rate visit=R', a command-line flag, beside its Rates field."""
    signed_in(app, client, "max@flowline.io", "manager")
    page = client.get("/plan?goal=1000000&deal_size=20000")
    assert page.status_code == 200
    error = text_of(page.text[page.text.index('class="error"') :].split("</p>")[0])
    assert "no measured rate for visit in the last 180 days (0 of 0)" in error, error
    assert "--rate" not in error, error
    assert "give visit=R in the Rates field" in error, error
