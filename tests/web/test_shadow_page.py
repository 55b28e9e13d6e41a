"""The shadow comparison page in a real browser: marketing compares, previews, promotes; a rep
reads it without the promote button."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect

from leadflow.core.roles import Role
from tests.api.conftest import bearer
from tests.web.test_accessibility import violations
from tests.web.test_pages import people, shot, sign_in

__all__ = ["people"]


def _shadow_lower_bar(client: TestClient, key: str) -> None:
    text = client.get("/api/playbook", headers=bearer(key)).json()["content"]
    lower = text.replace("{field: fit, gte: 40}", "{field: fit, gte: 0}")
    lower = lower.replace("{field: engagement, gte: 30}", "{field: engagement, gte: 0}")
    assert lower != text
    started = client.post("/api/playbook/shadow", json={"content": lower}, headers=bearer(key))
    assert started.status_code == 200


def _visits(client: TestClient, key: str, n: int) -> None:
    for k in range(n):
        who = f"v{k}@visitor{k}.io"
        events = {"events": [
            {"email": who, "type": "identify", "properties": {"title": "VP Operations"}},
            {"email": who, "type": "page", "properties": {"path": "/pricing"}},
        ]}  # fmt: skip
        assert client.post("/api/events", json=events, headers=bearer(key)).status_code == 200


def test_marketing_compares_previews_and_promotes(
    page: Page, live_url: str, client: TestClient, make_key: Callable[[Role], str], people: None
) -> None:
    key = make_key(Role.MARKETING)
    sign_in(page, live_url, "mia@flowline.io", "/playbook")
    page.get_by_role("link", name="Shadow comparison").click()
    expect(page.get_by_text("No candidate runs in the shadow")).to_be_visible()
    assert violations(page) == []
    _shadow_lower_bar(client, key)
    _visits(client, key, 3)
    page.reload()
    figures = page.locator("#shadow-figures")
    expect(figures.locator("tr", has_text="MQLs").first).to_contain_text("0")
    expect(figures.locator("tr", has_text="MQLs").first.locator("td").nth(2)).to_have_text("3")
    expect(page.locator("#shadow-disagree tbody tr")).to_have_count(3)
    shot(page, "playbook-compare")
    assert violations(page) == []  # axe: no serious or critical problem
    page.get_by_role("button", name="Preview promoting it").click()
    expect(page.get_by_text("What promoting it would change")).to_be_visible()
    expect(page.locator("pre.diff")).to_contain_text("+      - {field: fit, gte: 0}")
    assert violations(page) == []
    page.get_by_role("button", name="Promote").click()
    expect(page.locator(".sub .pill")).to_contain_text("version 2 applied")


def test_a_rep_reads_the_comparison_but_cannot_promote(
    page: Page, live_url: str, client: TestClient, make_key: Callable[[Role], str], people: None
) -> None:
    _shadow_lower_bar(client, make_key(Role.MARKETING))
    sign_in(page, live_url, "nora@flowline.io", "/playbook/compare")
    expect(page.locator("h1")).to_have_text("Shadow comparison")
    expect(page.locator("#shadow-figures")).to_be_visible()
    expect(page.get_by_role("button", name="Preview promoting it")).to_have_count(0)
    refused = page.request.post(f"{live_url}/playbook/promote", form={"intent": "apply"})
    assert refused.status == 403  # a rep may not change the playbook
    assert (
        client.get("/api/playbook", headers=bearer(make_key(Role.MARKETING))).json()["version"] == 1
    )
