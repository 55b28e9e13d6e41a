"""A lead left in a team's queue, as a rep of that team sees it: in their queue beside their
own leads, labelled as the team's and nobody's, with Accept, which makes it theirs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect

from leadflow.core.roles import Role
from leadflow.services import reps
from tests.web.test_pages import demo_request, people, sign_in

__all__ = ["people"]


def test_a_lead_waiting_in_the_reps_team_queue_is_in_their_queue_to_accept(
    page: Page, live_url: str, app: FastAPI, client: TestClient,
    make_key: Callable[[Role], str], people: None,
) -> None:  # fmt: skip
    # Before: nobody on inbound could take it, so it waited in inbound's queue unowned, and no
    # rep's queue showed it, though any rep may accept it.
    with app.state.sessions() as session, session.begin():  # Nora, inbound's only rep, away
        away = datetime.now(UTC) + timedelta(days=1)
        reps.update_rep_by_email(session, "nora@flowline.io", {"out_of_office_until": away})
    sign_in(page, live_url, "nora@flowline.io", "/queue")
    expect(page.locator("html[data-live=on]")).to_have_count(1)
    demo_request(client, make_key(Role.MARKETING), "kai@unlisted-co.io")
    row = page.locator('tr[data-email="kai@unlisted-co.io"]')
    expect(row.locator(".owner")).to_contain_text("Team queue", timeout=15_000)
    expect(row.locator(".owner")).to_contain_text("waiting in inbound's queue")
    row.get_by_role("button", name="Accept").click()
    expect(row.locator(".owner")).to_contain_text("Owner: you")
    expect(row).to_contain_text("touched")
