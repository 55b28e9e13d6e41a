"""Every page checked by axe-core (vendored under tests/web/vendor) in Chromium: no serious or
critical accessibility violation, signed out and signed in as each role that sees the page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import Page

from leadflow.core.roles import Role
from leadflow.services import reps, users
from tests.web.test_pages import PASSWORD, demo_request, sign_in

AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text()
PAGES = ["/dashboard", "/playbook", "/plan", "/team", "/alerts", "/audit", "/team/reps/new",
         "/team/route?facts=account.tier:+top", "/queue", "/leads/ana@fabrikam.io"]  # fmt: skip


def violations(page: Page) -> list[str]:
    """axe's serious and critical findings on the page, one line each."""
    page.wait_for_load_state("networkidle")
    page.evaluate(AXE)
    found: list[dict[str, Any]] = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    )
    return [
        f"{page.url}: {v['impact']} {v['id']}: {v['help']} -> "
        + "; ".join(str(n["target"]) for n in v["nodes"][:3])
        for v in found
        if v["impact"] in ("serious", "critical")
    ]


@pytest.fixture
def admin(app: FastAPI, client: TestClient, make_key: Callable[[Role], str]) -> str:
    now = datetime.now(UTC)
    with app.state.sessions() as session, session.begin():
        fields = {"email": "ada@flowline.io", "name": "Ada Admin", "team": "enterprise",
                  "working_hours": "mon-sun 00:00-24:00"}  # fmt: skip
        reps.add_rep(session, fields, now=now)
        users.create_user(session, email="ada@flowline.io", name="Ada Admin", role="admin",
                          password=PASSWORD, now=now)  # fmt: skip
    demo_request(client, make_key(Role.ADMIN), "ana@fabrikam.io")
    return "ada@flowline.io"


def test_no_serious_accessibility_problem_on_any_page(
    page: Page, live_url: str, admin: str
) -> None:
    page.goto(f"{live_url}/login")
    found = violations(page)
    sign_in(page, live_url, admin, "/dashboard")
    page.wait_for_url(f"{live_url}/dashboard")
    for path in PAGES:
        page.goto(f"{live_url}{path}")
        found += violations(page)
    assert found == [], "\n".join(found)
