"""The bell's pop-up in a real browser: a lead's reasons add up to the score they explain,
the total the lead page shows."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect
from sqlalchemy import select

from leadflow.core.roles import Role
from leadflow.models.lead import Lead
from tests.api.conftest import bearer
from tests.web.test_pages import people, sign_in

__all__ = ["people"]


def many_reasons(client: TestClient, key: str, email: str) -> None:
    """A demo request from a lead eight rules score, two of them against (free mail, careers):
    more reasons than the pop-up lists."""
    events = {"events": [
        {"email": email, "type": "identify", "properties": {"title": "VP Operations",
                                                             "country": "US"}},
        *({"email": email, "type": "page", "properties": {"path": path}}
          for path in ("/pricing", "/customers/acme", "/careers", "/blog")),
        {"email": email, "type": "track", "name": "Demo Requested"},
    ]}  # fmt: skip
    assert client.post("/api/events", json=events, headers=bearer(key)).status_code == 200


def test_the_bell_says_what_the_reasons_add_up_to(
    page: Page, live_url: str, app: FastAPI, client: TestClient,
    make_key: Callable[[Role], str], people: None,
) -> None:  # fmt: skip
    sign_in(page, live_url, "nora@flowline.io", "/queue")
    expect(page.locator("html[data-live=on]")).to_have_count(1)  # the stream is open
    many_reasons(client, make_key(Role.MARKETING), "kai@gmail.com")
    toast = page.locator(".toast").first
    expect(toast).to_contain_text("= total")
    with app.state.sessions() as session:
        lead = session.scalar(select(Lead).where(Lead.email == "kai@gmail.com"))
        assert lead is not None and len(lead.contributions) > 5
        total = f"{lead.total:.2f}"
    lines = (toast.locator(".note-body").text_content() or "").splitlines()
    assert f"= total {total}" in lines
    listed = [line for line in lines if line.startswith("- ")]
    hundredths = sum(round(float(line.rsplit(": ", 1)[1]) * 100) for line in listed)
    assert f"{hundredths / 100:.2f}" == total  # the lines add up to it, to the hundredth
    page.goto(f"{live_url}/leads/kai@gmail.com")
    expect(page.locator(".kpi", has_text="Total score")).to_contain_text(total)
