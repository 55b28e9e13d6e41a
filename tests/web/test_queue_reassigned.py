"""A lead the SLA's ladder reassigns, as the two reps' open queues show it: it leaves the old
rep's queue and arrives in the new rep's, theirs with their own deadline, and their bell rings;
no page is reloaded."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, expect

from leadflow.core.roles import Role
from leadflow.services import reps, users
from tests.api.test_handoff import overdue_by
from tests.web.test_pages import PASSWORD, demo_request, people, sign_in

__all__ = ["people"]


def test_a_reassigned_lead_moves_to_the_new_reps_open_queue(
    page: Page, browser: Browser, live_url: str, app: FastAPI, client: TestClient,
    make_key: Callable[[Role], str], people: None,
) -> None:  # fmt: skip
    # Before: the new rep's queue was not told; the lead appeared only on a reload, and the
    # bell said nothing of it.
    with app.state.sessions() as session, session.begin():  # Ola joins Nora on inbound
        now = datetime.now(UTC)
        fields = {"email": "ola@flowline.io", "name": "Ola Berg", "team": "inbound",
                  "working_hours": "mon-sun 00:00-24:00"}  # fmt: skip
        reps.add_rep(session, fields, now=now)
        users.create_user(session, email="ola@flowline.io", name="Ola Berg", role="rep",
                          password=PASSWORD, now=now)  # fmt: skip
    demo_request(client, make_key(Role.MARKETING), "kai@unlisted-co.io")  # Nora's
    sign_in(page, live_url, "nora@flowline.io", "/queue")
    mine = page.locator('tr[data-email="kai@unlisted-co.io"]')
    expect(mine.locator(".owner")).to_contain_text("Owner: you")
    ola = browser.new_context().new_page()
    sign_in(ola, live_url, "ola@flowline.io", "/queue")
    expect(ola.locator("#queue")).to_contain_text("Nothing waiting")
    for open_page in (page, ola):
        expect(open_page.locator("html[data-live=on]")).to_have_count(1)
    overdue_by(app, 121)  # breached, reminded, the manager step, reassigned: all at once
    theirs = ola.locator('tr[data-email="kai@unlisted-co.io"]')
    expect(theirs.locator(".owner")).to_contain_text("Owner: you", timeout=15_000)
    expect(theirs).to_contain_text("min left")  # their own deadline, not hours late
    expect(ola.locator(".toast").first).to_contain_text("lead.assigned")
    expect(mine).to_have_count(0)  # gone from Nora's queue
    ola.context.close()
