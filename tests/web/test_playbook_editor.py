"""The playbook editor in Chromium: CodeMirror highlights the YAML, completes keys and values
from the playbook's JSON Schema, marks a problem at its line as you type, and applies."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect

from leadflow.services import users
from tests.web.test_pages import PASSWORD, sign_in
from tests.web.test_xss_browser import watched


@pytest.fixture
def marketer(app: FastAPI) -> str:
    with app.state.sessions() as session, session.begin():
        users.create_user(session, email="mia@flowline.io", name="Mia Novak", role="marketing",
                          password=PASSWORD, now=datetime.now(UTC))  # fmt: skip
    return "mia@flowline.io"


def test_the_editor_highlights_completes_and_marks_problems(
    page: Page, live_url: str, marketer: str
) -> None:
    problems = watched(page)
    sign_in(page, live_url, marketer, "/playbook")
    page.wait_for_url(f"{live_url}/playbook")
    editor = page.locator(".playbook-editor .cm-content")
    expect(editor).to_be_visible()
    # Highlighted tokens, not plain text. CodeMirror highlights as its parser gets time, so on
    # a busy machine the first look can come before most of the text is parsed: wait for it.
    expect(page.locator(".cm-line span").nth(20)).to_be_attached()  # more than 20 of them
    assert page.locator("#content").is_hidden()
    # Completion from the schema: top-level keys at the start of an empty first line.
    page.evaluate("window.playbookEditor.dispatch({changes: {from: 0, insert: '\\n'}})")
    page.evaluate("window.playbookEditor.dispatch({selection: {anchor: 0}})")
    editor.focus()
    page.keyboard.press("Control+Space")
    options = page.locator(".cm-tooltip-autocomplete li")
    expect(options.first).to_be_visible()
    labels = options.all_inner_texts()
    assert {"lifecycle", "routing", "sla"} <= {label.split()[0] for label in labels}
    page.keyboard.press("Escape")
    # A problem appears at its line while typing: an unknown top-level key on line 1.
    page.evaluate("window.playbookEditor.dispatch({changes: {from: 0, insert: 'nonsense: 1'}})")
    marker = page.locator(".cm-lint-marker-error")
    expect(marker.first).to_be_visible(timeout=10_000)
    assert problems == [], problems


def test_the_check_needs_the_form_token_and_an_editor(client: TestClient, marketer: str) -> None:
    client.get("/login")
    token = client.cookies.get("lf_login_csrf")
    client.post("/login", data={"email": marketer, "password": PASSWORD, "csrf_token": token})
    assert client.post("/playbook/check", data={"content": "x: 1"}).status_code == 403
    page = client.get("/playbook").text
    csrf = page.split('name="csrf_token" value="')[1].split('"')[0]
    found = client.post("/playbook/check", data={"content": "x: 1"},
                        headers={"X-CSRF-Token": csrf}).json()  # fmt: skip
    assert found["problems"] and found["problems"][0]["line"] == 1
