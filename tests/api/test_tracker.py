"""The website tracker in a real browser: a landing page on another origin, a visit, a form."""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import Page
from sqlalchemy import select

from leadflow.core.roles import Role
from leadflow.models.event import Event
from leadflow.models.lead import Lead
from tests.api.conftest import EXAMPLES


@pytest.fixture
def landing_url(tmp_path: Path, live_url: str, make_key: Callable[[Role], str]) -> Iterator[str]:
    """The example landing page, its snippet pointed at the live server, served elsewhere."""
    page = (EXAMPLES / "landing_page.html").read_text()
    page = page.replace("http://127.0.0.1:8000", live_url)
    page = page.replace("YOUR_WRITE_KEY", make_key(Role.INGEST))
    (tmp_path / "index.html").write_text(page)
    handler = functools.partial(QuietHandler, directory=str(tmp_path))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """No access log on the test output."""


def wait_for(check: Callable[[], Any], seconds: float = 15.0) -> Any:
    """The first truthy result of `check`, polled until the deadline."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"nothing after {seconds} s")


def events_of(app: FastAPI, **where: Any) -> list[Event]:
    with app.state.sessions() as session:
        query = select(Event).filter_by(**where).order_by(Event.id)
        return list(session.scalars(query))


def test_a_visit_and_a_form_make_an_identified_scored_lead(
    app: FastAPI, landing_url: str, page: Page
) -> None:
    page.goto(f"{landing_url}/?utm_source=newsletter&utm_medium=email&utm_campaign=ops-guide")
    views = wait_for(lambda: events_of(app, type="page"))
    assert views[0].lead_id is None  # an anonymous visitor so far
    assert views[0].context["campaign"] == {
        "source": "newsletter",
        "medium": "email",
        "name": "ops-guide",
    }
    assert views[0].properties["path"] == "/"

    page.fill("input[name=firstName]", "Rosa")
    page.fill("input[name=email]", "Rosa@Vandelay-Logistics.com")
    page.fill("input[name=company]", "Vandelay Logistics")
    page.fill("input[name=title]", "VP Operations")
    page.fill("input[name=password]", "hunter2")
    page.click("button[type=submit]")

    def lead() -> Lead | None:
        with app.state.sessions() as session:
            found = session.scalar(select(Lead).where(Lead.email == "rosa@vandelay-logistics.com"))
            return found if found is not None and found.scored_at is not None else None

    rosa = wait_for(lead)
    wait_for(lambda: events_of(app, type="track", lead_id=rosa.id))
    rosa = wait_for(lead)
    assert (rosa.first_name, rosa.title, rosa.source) == ("Rosa", "VP Operations", "newsletter")
    kinds = sorted((e.type, e.name or "") for e in events_of(app, lead_id=rosa.id))
    assert ("track", "Form Submitted") in kinds and ("identify", "") in kinds
    assert ("page", "Ops Automation Guide") in kinds  # the anonymous view, merged on identify
    rules = {c["rule"] for c in rosa.contributions}
    assert {"form_submit", "page_view"} <= rules
    assert rosa.engagement > 10
    identify = events_of(app, type="identify", lead_id=rosa.id)[0]
    assert "password" not in identify.properties and "hunter2" not in str(identify.properties)


def test_the_tracker_script_is_served(client: TestClient) -> None:
    response = client.get("/t.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/javascript")
    assert "/v1/b" in response.text
