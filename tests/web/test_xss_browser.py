"""Script in every field a page shows, sent as an attacker would (the public write key, a
tool's key, a careless admin), opened in a real browser: nothing runs, everything reads as
text, the Content-Security-Policy reports no violation, and htmx and the charts still work."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import ConsoleMessage, Page, expect

from leadflow.core.roles import Role
from leadflow.services import playbooks, reps, users, webhooks
from tests.api.conftest import EXAMPLES, bearer
from tests.web.test_pages import PASSWORD, shot, sign_in

# Every payload sets window.__xss if it ever runs, and names its field so a page can be
# checked for showing it as text.
WATCH = """
window.__xss = undefined;
document.addEventListener("securitypolicyviolation", (e) => {
  (window.__csp = window.__csp || []).push(e.violatedDirective + " " + e.blockedURI);
});
"""


def evil(field: str) -> str:
    return (f"<img src=x onerror=\"window.__xss='{field}'\">{field}"
            f"<script>window.__xss='{field}'</script>'\"><svg onload=window.__xss=1>")  # fmt: skip


def plant(app: FastAPI, client: TestClient, make_key: Callable[[Role], str]) -> None:
    """Nora (rep) and Max (manager), and a lead carrying script in every field it has."""
    now = datetime.now(UTC)
    text = (EXAMPLES / "b2b_saas.yaml").read_text()
    text = text.replace("label: Senior decision maker", f"label: {json.dumps(evil('label'))}")
    text = text.replace('- "Ask which hand-off', f'- {json.dumps(evil("talking"))}\n        - "Ask')
    with app.state.sessions() as session, session.begin():
        playbooks.apply(session, text, author=evil("author"), now=now)
        reps.add_rep(session, {"email": "nora@flowline.io", "name": evil("rep name"),
                               "team": "inbound", "working_hours": "mon-sun 00:00-24:00"},
                     now=now)  # fmt: skip
        reps.add_rep(session, {"email": "vic@flowline.io", "name": "Vic", "team": evil("team"),
                               "working_hours": "mon-sun 00:00-24:00"}, now=now)  # fmt: skip
        for email, role in (("nora@flowline.io", "rep"), ("max@flowline.io", "manager")):
            users.create_user(session, email=email, name=evil(f"user {role}"), role=role,
                              password=PASSWORD, now=now)  # fmt: skip
        webhooks.add_endpoint(session, "http://127.0.0.1:9/hooks", None, now=now)
    context = {"campaign": {"name": evil("campaign"), "source": evil("source"),
                            "medium": evil("medium")}}  # fmt: skip
    who = {"userId": "kai-1", "context": context}
    batch = {"batch": [
        {**who, "type": "identify", "traits": {
            "email": "kai@unlisted-co.io", "first_name": evil("first"), "last_name": evil("last"),
            "title": "VP " + evil("title"), "company": evil("company")}},
        {**who, "type": "page", "properties": {"path": "/" + evil("path"), "url": evil("url")}},
        {**who, "type": "track", "event": evil("event")},
        {**who, "type": "track", "event": "Demo Requested"},
    ]}  # fmt: skip
    sent = client.post("/v1/batch", json=batch, auth=(make_key(Role.INGEST), ""))
    assert sent.status_code == 200, sent.text
    key = bearer(make_key(Role.ADMIN))
    note = {"text": evil("note")}
    assert client.post("/api/leads/kai@unlisted-co.io/notes", json=note, headers=key).is_success
    other = {"email": "lou@unlisted-co.io", "first_name": "Lou"}
    assert client.post("/api/leads", json=other, headers=key).is_success
    action = {"action": "disqualify", "reason": evil("reason")}
    moved = client.post("/api/leads/lou@unlisted-co.io/actions", json=action, headers=key)
    assert moved.is_success, moved.text


def watched(page: Page) -> list[str]:
    """Console lines that tell of a blocked script or style, and uncaught page errors."""
    seen: list[str] = []

    def console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or (
            message.type == "error" and ("Refused" in message.text)
        ):
            seen.append(message.text)

    page.on("console", console)
    page.on("pageerror", lambda error: seen.append(f"page error: {error}"))
    page.add_init_script(WATCH)
    return seen


def clean(page: Page, problems: list[str], *fields: str) -> None:
    """Nothing ran or was blocked on this page, and each field reads as plain text."""
    page.wait_for_load_state("networkidle")
    assert page.evaluate("window.__xss") is None, page.url
    assert page.evaluate("window.__csp || []") == [], page.url
    assert problems == [], page.url
    assert page.locator("img[src=x], svg[onload], body script:not([src]):not([type])").count() == 0
    body = page.inner_text("body") + page.input_value("#content") if page.locator(
        "#content").count() else page.inner_text("body")  # fmt: skip
    for field in fields:
        assert f"<img src=x onerror=\"window.__xss='{field}'\">{field}" in body, (page.url, field)


def test_script_in_every_field_runs_nowhere(
    page: Page, live_url: str, app: FastAPI, client: TestClient,
    make_key: Callable[[Role], str],
) -> None:  # fmt: skip
    plant(app, client, make_key)
    problems = watched(page)
    sign_in(page, live_url, "nora@flowline.io", "/queue")
    row = page.locator('tr[data-email="kai@unlisted-co.io"]')
    expect(row).to_be_visible()
    clean(page, problems, "first", "last", "title", "user rep")
    row.get_by_role("button", name="Log call").click()  # htmx under the CSP: swaps the rows
    expect(row).to_contain_text("touched")
    clean(page, problems, "first", "title")
    page.goto(f"{live_url}/leads/kai@unlisted-co.io")
    clean(page, problems, "first", "title", "event", "path", "note", "label")
    page.goto(f"{live_url}/leads/lou@unlisted-co.io")
    clean(page, problems, "reason")
    page.goto(f"{live_url}/dashboard")
    charts = page.evaluate(
        "[...document.querySelectorAll('canvas')].map(c => Boolean(Chart.getChart(c)))"
    )
    assert charts and all(charts)  # every chart drawn by the static script
    for chart, field in (("sources", "source"), ("campaigns", "campaign")):
        script = f"Chart.getChart(document.getElementById('{chart}')).data.labels"
        assert evil(field) in page.evaluate(script)  # a label on a canvas, nothing more
    clean(page, problems)
    shot(page, "dashboard-under-csp")
    page.goto(f"{live_url}/playbook")
    clean(page, problems, "author")
    for field in ("label", "talking"):  # the YAML as written, quotes escaped, shown as text
        assert json.dumps(evil(field)) in page.inner_text("body")
    page.goto(
        f"{live_url}/plan?rates=visit%3D0.02+lead%3D0.5+mql%3D0.4+sql%3D0.25+opportunity%3D0.2"
    )
    assert page.evaluate("Boolean(Chart.getChart(document.getElementById('pacing')))")
    clean(page, problems)
    shot(page, "plan-under-csp")
    page.context.clear_cookies()
    sign_in(page, live_url, "max@flowline.io", "/team")
    clean(page, problems, "rep name", "team", "user manager")
    page.goto(f"{live_url}/alerts")
    expect(page.locator("table")).to_contain_text("lead.sales_ready")
    clean(page, problems)
    page.goto(f"{live_url}/queue")
    clean(page, problems, "first", "title")
    page.goto(f"{live_url}/no-such-page/{evil('url path')}")
    expect(page.locator("h1")).to_have_text("Page not found")
    clean(page, problems)


def test_script_in_an_alert_runs_nowhere_in_the_toast_or_the_inbox(
    page: Page, live_url: str, app: FastAPI, client: TestClient,
    make_key: Callable[[Role], str],
) -> None:  # fmt: skip
    # The alert's text quotes what the write key sent and reaches the page over the live
    # stream (a toast built by static/live.js), then the bell's inbox.
    plant(app, client, make_key)
    problems = watched(page)
    sign_in(page, live_url, "nora@flowline.io", "/queue")
    expect(page.locator("html[data-live=on]")).to_have_count(1)
    who = {"userId": "zed-1"}
    batch = {"batch": [
        {**who, "type": "identify", "traits": {
            "email": "zed@unlisted-co.io", "first_name": evil("toast"), "title": evil("title")}},
        {**who, "type": "track", "event": "Demo Requested",
         "properties": {"url": "javascript:window.__xss='url'"}},
    ]}  # fmt: skip
    sent = client.post("/v1/batch", json=batch, auth=(make_key(Role.INGEST), ""))
    assert sent.status_code == 200, sent.text
    toast = page.locator(".toast").first
    expect(toast).to_contain_text(evil("toast"))  # as text
    assert str(toast.locator("a").get_attribute("href")).startswith("/leads/")
    clean(page, problems, "toast", "title")
    page.goto(f"{live_url}/notifications")
    clean(page, problems, "toast", "title")
    hrefs = page.evaluate("[...document.querySelectorAll('a[href]')].map(a => a.href)")
    assert all(h.startswith(live_url) for h in hrefs)  # no link an event could have named
