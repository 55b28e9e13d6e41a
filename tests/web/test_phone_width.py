"""Every page usable on a phone: at 390 px wide nothing makes the page scroll sideways."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import Page

from leadflow.core.roles import Role
from tests.web.test_pages import demo_request, people, shot, sign_in

__all__ = ["people"]

PHONE = {"width": 390, "height": 844}
PAGES = ["/queue", "/leads/kai@unlisted-co.io", "/dashboard", "/plan", "/playbook", "/team",
         "/alerts"]  # fmt: skip


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_no_page_is_wider_than_a_phone(
    page: Page, live_url: str, client: TestClient, make_key: Callable[[Role], str], people: None,
    app: FastAPI,
) -> None:  # fmt: skip
    demo_request(client, make_key(Role.MARKETING), "kai@unlisted-co.io")
    page.set_viewport_size(PHONE)
    sign_in(page, live_url, "max@flowline.io", "/queue")
    page.wait_for_selector('tr[data-email="kai@unlisted-co.io"]')
    wide = {}
    for path in PAGES:
        page.goto(f"{live_url}{path}")
        page.wait_for_load_state("networkidle")
        width = page.evaluate("document.documentElement.scrollWidth")
        shot(page, "phone" + path.replace("/", "-").replace("@", "-"))
        if width > PHONE["width"]:
            wide[path] = width
    assert wide == {}, f"wider than {PHONE['width']} px: {wide}"
