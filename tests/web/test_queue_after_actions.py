"""What a rep sees after working a lead from the queue: the reason it was handed off stays
its "why to call now" once accepted, and an amount typed the way people write money
("12,500", "$12,500") is the conversion's amount, not its reason. What a manager sees of a
lead a rep has: who owns it, and no Accept the rules would refuse."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect
from sqlalchemy import select

from leadflow.core.roles import Role
from leadflow.models.lead import Lead
from leadflow.models.stage_change import StageChange
from leadflow.services import reps
from tests.web.test_pages import demo_request, leads_amount, people, sign_in

__all__ = ["people"]


def test_an_accepted_lead_still_says_what_tipped_it(
    page: Page, live_url: str, client: TestClient,
    make_key: Callable[[Role], str], people: None,
) -> None:  # fmt: skip
    demo_request(client, make_key(Role.MARKETING), "kai@unlisted-co.io")
    sign_in(page, live_url, "nora@flowline.io", "/queue")
    row = page.locator('tr[data-email="kai@unlisted-co.io"]')
    expect(row.locator(".tipped")).to_contain_text("Demo requested")
    row.get_by_role("button", name="Accept").click()
    expect(row).to_contain_text("touched")
    expect(row.locator(".tipped")).to_contain_text("Demo requested")  # not "accept"
    row.get_by_role("button", name="Log call").click()
    expect(row.locator(".tipped")).to_contain_text("Demo requested")


@pytest.mark.parametrize("typed", ["12,500", "$12,500", "12 500", "12500.00"])
def test_a_conversion_amount_written_as_money_is_its_amount(
    page: Page, live_url: str, app: FastAPI, client: TestClient,
    make_key: Callable[[Role], str], people: None, typed: str,
) -> None:  # fmt: skip
    demo_request(client, make_key(Role.MARKETING), "kai@unlisted-co.io")
    sign_in(page, live_url, "nora@flowline.io", "/queue")
    row = page.locator('tr[data-email="kai@unlisted-co.io"]')
    row.locator("select").select_option("convert")
    row.locator("input.reason").fill(typed)
    row.get_by_role("button", name="Go").click()
    expect(row).to_have_count(0)
    assert leads_amount(app, "kai@unlisted-co.io") == 12500
    with app.state.sessions() as session:
        lead = session.scalar(select(Lead).where(Lead.email == "kai@unlisted-co.io"))
        assert lead is not None
        moves = session.scalars(select(StageChange).where(StageChange.lead_id == lead.id))
        converted = [m for m in moves if m.to_stage == "opportunity"]
        assert len(converted) == 1 and "12" not in (converted[0].reason or "")  # not a reason


def test_an_amount_that_is_no_number_is_refused_on_the_lead_page(
    page: Page, live_url: str, app: FastAPI, client: TestClient,
    make_key: Callable[[Role], str], people: None,
) -> None:  # fmt: skip
    demo_request(client, make_key(Role.MARKETING), "kai@unlisted-co.io")
    sign_in(page, live_url, "max@flowline.io", "/leads/kai@unlisted-co.io")
    page.locator("select[name=action]").select_option("convert")
    page.fill("input[name=amount]", "twelve grand")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text(re.compile("amount.*twelve grand"))
    with app.state.sessions() as session:
        lead = session.scalar(select(Lead).where(Lead.email == "kai@unlisted-co.io"))
        assert lead is not None and lead.stage == "sql"  # not converted without its amount


def test_a_manager_sees_who_owns_a_lead_and_no_accept_the_rules_refuse(
    page: Page, live_url: str, app: FastAPI, client: TestClient,
    make_key: Callable[[Role], str], people: None,
) -> None:  # fmt: skip
    with app.state.sessions() as session, session.begin():  # Max takes leads too
        fields = {"email": "max@flowline.io", "name": "Max Weber", "team": "managers",
                  "working_hours": "mon-sun 00:00-24:00"}  # fmt: skip
        reps.add_rep(session, fields, now=datetime.now(UTC))
    demo_request(client, make_key(Role.MARKETING), "kai@unlisted-co.io")  # Nora's
    sign_in(page, live_url, "nora@flowline.io", "/queue")
    row = page.locator('tr[data-email="kai@unlisted-co.io"]')
    row.get_by_role("button", name="Accept").click()
    expect(row).to_contain_text("touched")
    page.context.clear_cookies()
    sign_in(page, live_url, "max@flowline.io", "/queue")
    expect(row.locator(".owner")).to_contain_text("nora@flowline.io")
    expect(row.get_by_role("button", name="Log call")).to_be_visible()  # a manager may
    expect(row.get_by_role("button", name="Accept")).to_have_count(0)  # only Nora may
    page.goto(f"{live_url}/leads/kai@unlisted-co.io")
    expect(page.locator("select[name=action] option[value=accept]")).to_have_count(0)
    csrf = page.evaluate("JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRF-Token']")
    sent = page.request.post(f"{live_url}/leads/kai@unlisted-co.io/act",
                             form={"action": "accept", "csrf_token": csrf})  # fmt: skip
    assert "the lead belongs to nora@flowline.io; only they can accept it" in sent.text()
    with app.state.sessions() as session:
        actors = session.scalars(select(StageChange.actor).where(StageChange.reason == "accept"))
        assert list(actors) == ["nora@flowline.io"]  # Max's accept was refused
