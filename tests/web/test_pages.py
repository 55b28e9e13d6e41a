"""The web app in a real browser (Playwright, Debian's Chromium): sign in as a rep, watch a
lead arrive in the queue, act on it, see the dashboard; roles, CSRF and expired sessions."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect
from sqlalchemy import delete, select

from leadflow.core.roles import Role
from leadflow.models.lead import Lead
from leadflow.models.user import WebSession
from leadflow.services import reps, users, webhooks
from tests.api.conftest import bearer

SHOTS = Path(os.environ.get("LEADFLOW_ARTIFACTS", "test-artifacts")) / "screenshots"
PASSWORD = "correct-horse-battery"


@pytest.fixture
def people(app: FastAPI) -> None:
    """Nora, the only rep on the inbound team (always in hours), and Mia from marketing."""
    now = datetime.now(UTC)
    with app.state.sessions() as session, session.begin():
        fields = {"email": "nora@flowline.io", "name": "Nora Patel", "team": "inbound",
                  "working_hours": "mon-sun 00:00-24:00"}  # fmt: skip
        reps.add_rep(session, fields, now=now)
        for email, name, role in (("nora@flowline.io", "Nora Patel", "rep"),
                                  ("mia@flowline.io", "Mia Novak", "marketing"),
                                  ("max@flowline.io", "Max Weber", "manager")):  # fmt: skip
            users.create_user(session, email=email, name=name, role=role, password=PASSWORD,
                              now=now)  # fmt: skip


def sign_in(page: Page, base: str, email: str, path: str = "/") -> None:
    page.goto(f"{base}{path}")
    expect(page).to_have_url(re.compile(r"/login"))
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def demo_request(client: TestClient, key: str, email: str) -> None:
    events = {"events": [
        {"email": email, "type": "identify", "properties": {"title": "VP Operations"}},
        {"email": email, "type": "page", "properties": {"path": "/pricing"}},
        {"email": email, "type": "track", "name": "Demo Requested"},
    ]}  # fmt: skip
    assert client.post("/api/events", json=events, headers=bearer(key)).status_code == 200


def leads_amount(app: FastAPI, email: str) -> float:
    with app.state.sessions() as session:
        lead = session.scalar(select(Lead).where(Lead.email == email))
        assert lead is not None
        return float(lead.attributes["opportunity_amount"])


def test_a_rep_sees_a_lead_arrive_and_works_it(
    page: Page,
    live_url: str,
    app: FastAPI,
    client: TestClient,
    make_key: Callable[[Role], str],
    people: None,
) -> None:
    page.goto(f"{live_url}/login")
    shot(page, "login")
    sign_in(page, live_url, "nora@flowline.io", "/queue")
    expect(page).to_have_url(re.compile(r"/queue$"))
    expect(page.locator("#queue")).to_contain_text("Nothing waiting")
    demo_request(client, make_key(Role.MARKETING), "kai@unlisted-co.io")
    row = page.locator('tr[data-email="kai@unlisted-co.io"]')
    expect(row).to_be_visible(timeout=15_000)  # arrives by itself (polling), no reload
    expect(row).to_contain_text("hand-raiser")
    expect(row).to_contain_text("min left")
    shot(page, "queue")
    row.get_by_role("button", name="Log call").click()
    expect(row).to_contain_text("touched")
    row.locator("select").select_option("recycle")
    row.get_by_role("button", name="Go").click()  # no reason: refused next to the lead
    expect(page.locator('tr[data-email="kai@unlisted-co.io"] [role=alert]')).to_contain_text(
        "recycle needs a reason"
    )
    row.locator("select").select_option("convert")
    row.locator("input.reason").fill("24000")
    row.get_by_role("button", name="Go").click()
    expect(row).to_have_count(0)  # an opportunity now: out of the sales-ready queue
    page.goto(f"{live_url}/leads/kai@unlisted-co.io")
    expect(page.locator("h1")).to_contain_text("kai@unlisted-co.io")
    expect(page.get_by_text("Why this score")).to_be_visible()
    expect(page.locator(".timeline").first).to_contain_text("sql → opportunity")
    moments = page.locator(".card", has_text="Moments that mattered")
    expect(moments).to_contain_text("Demo Requested")  # the event that earned the most
    assert leads_amount(app, "kai@unlisted-co.io") == 24000
    shot(page, "lead")
    page.goto(f"{live_url}/dashboard")
    expect(page.locator("canvas#funnel")).to_be_visible()
    expect(page.locator(".kpi").first).to_contain_text("1")
    page.wait_for_timeout(300)  # the charts draw after load
    shot(page, "dashboard")
    page.goto(f"{live_url}/dashboard?period=2026-13")
    expect(page.get_by_role("alert")).to_contain_text("month 13 does not exist")


def test_a_rep_cannot_act_on_another_reps_lead(
    page: Page, live_url: str, app: FastAPI, client: TestClient,
    make_key: Callable[[Role], str], people: None,
) -> None:  # fmt: skip
    demo_request(client, make_key(Role.MARKETING), "ida@unlisted-co.io")  # Nora's lead
    with app.state.sessions() as session, session.begin():
        users.create_user(session, email="ola@flowline.io", name="Ola", role="rep",
                          password=PASSWORD, now=datetime.now(UTC))  # fmt: skip
    sign_in(page, live_url, "ola@flowline.io", "/queue")
    expect(page.locator("#queue")).to_contain_text("Nothing waiting")  # not Ola's lead
    csrf = page.evaluate("JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRF-Token']")
    taken = page.request.post(f"{live_url}/leads/ida@unlisted-co.io/act",
                              form={"action": "touch", "csrf_token": csrf})  # fmt: skip
    assert taken.status == 403 and "belongs to nora@flowline.io" in taken.text()
    page.goto(f"{live_url}/team")
    expect(page.locator("h1")).to_have_text("Not for your role")


def test_roles_csrf_and_expired_sessions(
    page: Page, live_url: str, app: FastAPI, people: None
) -> None:
    sign_in(page, live_url, "nora@flowline.io")
    expect(page).to_have_url(re.compile(r"/queue$"))  # a rep starts on their queue
    forged = page.request.post(f"{live_url}/leads/1/act", form={"action": "touch"})
    assert forged.status == 403 and "Form expired" in forged.text()  # no CSRF token
    page.context.clear_cookies()
    sign_in(page, live_url, "mia@flowline.io")
    expect(page).to_have_url(re.compile(r"/dashboard$"))  # marketing starts on the dashboard
    page.goto(f"{live_url}/queue")
    expect(page.locator("h1")).to_have_text("Not for your role")  # a 403 page, no traceback
    shot(page, "forbidden")
    with app.state.sessions() as session, session.begin():
        session.execute(delete(WebSession))  # every session ends (expiry, or signed out)
    page.goto(f"{live_url}/dashboard")
    expect(page).to_have_url(re.compile(r"/login\?next=/dashboard"))
    page.fill("#email", "mia@flowline.io")
    page.fill("#password", "wrong-password-123")
    page.click("button[type=submit]")
    expect(page.get_by_role("alert")).to_contain_text("do not match")


def replace(page: Page, text: str) -> None:
    """Replace the playbook editor's whole text, as typing over it would."""
    page.evaluate(
        "t => window.playbookEditor.dispatch({changes: "
        "{from: 0, to: window.playbookEditor.state.doc.length, insert: t}})",
        text,
    )


def test_marketing_previews_a_playbook_change_before_applying_it(
    page: Page, live_url: str, client: TestClient, make_key: Callable[[Role], str], people: None
) -> None:
    for n in range(3):
        demo_request(client, make_key(Role.MARKETING), f"lead{n}@unlisted-co.io")
    sign_in(page, live_url, "mia@flowline.io", "/playbook")
    expect(page.locator(".playbook-editor .cm-content")).to_be_visible()  # the editor is up
    original = page.locator("#content").input_value()
    replace(page, original.replace("fit: {A: 60", "fit: {A: nonsense"))
    page.get_by_role("button", name="Preview the change").click()
    expect(page.get_by_role("alert").first).to_contain_text("line")  # the problem, by line
    expect(page.locator(".playbook-editor .cm-content")).to_be_visible()
    replace(page, original.replace("name: ", "name: Tuned ", 1))
    page.get_by_role("button", name="Preview the change").click()
    expect(page.get_by_text("What applying it would change")).to_be_visible()
    diff = page.locator("pre").last
    expect(diff).to_contain_text("+name: Tuned")
    added = [line for line in diff.inner_text().splitlines() if line.startswith("+")]
    assert len(added) == 2  # "+++ proposed" and the one line changed, not every line (CRLF)
    shot(page, "playbook-preview")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator(".sub .pill")).to_contain_text("applied")
    shot(page, "playbook")


def test_a_manager_sees_the_team_alerts_and_plan(
    page: Page, live_url: str, app: FastAPI, client: TestClient,
    make_key: Callable[[Role], str], people: None,
) -> None:  # fmt: skip
    with app.state.sessions() as session, session.begin():
        webhooks.add_endpoint(session, "http://127.0.0.1:9/hooks", None, now=datetime.now(UTC))
    demo_request(client, make_key(Role.MARKETING), "zoe@unlisted-co.io")
    sign_in(page, live_url, "max@flowline.io", "/team")
    expect(page.locator("table")).to_contain_text("Nora Patel")
    shot(page, "team")
    page.goto(f"{live_url}/alerts")
    expect(page.locator("table")).to_contain_text("lead.sales_ready")
    shot(page, "alerts")
    page.get_by_role("button", name="Replay").first.click()
    expect(page.locator(".sub .pill")).to_contain_text("queued again")
    page.goto(
        f"{live_url}/plan?goal=1000000&deal_size=10000&period=quarter"
        "&rates=visit%3D0.02+lead%3D0.5+mql%3D0.4+sql%3D0.25+opportunity%3D0.2"
    )
    expect(page.locator("table").first).to_contain_text("2,000")  # SQLs: 20x the customers
    page.wait_for_timeout(300)
    shot(page, "plan")
    page.goto(f"{live_url}/plan?goal=abc")
    expect(page.get_by_role("alert")).to_contain_text("goal: 'abc' is not a number")


def test_the_demo_sign_in_link_works_once(app: FastAPI, client: TestClient) -> None:
    with app.state.sessions() as session, session.begin():
        password, token = users.demo_users(session, datetime.now(UTC))
        assert users.authenticate(session, "nora@flowline.example", password) is not None
    shown = client.get(f"/welcome?token={token}", follow_redirects=False)
    assert shown.status_code == 200  # asks first (see tests/web/test_security.py)
    form = {"token": token, "csrf_token": client.cookies["lf_login_csrf"]}
    first = client.post("/welcome", data=form, follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/"
    assert "lf_session" in first.cookies
    client.cookies.clear()
    again = client.get(f"/welcome?token={token}", follow_redirects=False)
    assert again.headers["location"] == "/login"  # a one-time link
    client.get("/login")
    form["csrf_token"] = client.cookies["lf_login_csrf"]
    assert client.post("/welcome", data=form, follow_redirects=False).headers["location"] == (
        "/login"
    )
    with app.state.sessions() as session, session.begin():
        fresh, _ = users.demo_users(session, datetime.now(UTC))  # a new run, a new password
        assert fresh != password
        assert users.authenticate(session, "maya@flowline.example", password) is None
