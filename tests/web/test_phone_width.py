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


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_no_card_cuts_off_its_content_on_a_desktop(
    page: Page, live_url: str, client: TestClient, make_key: Callable[[Role], str], people: None,
    app: FastAPI,
) -> None:  # fmt: skip
    demo_request(client, make_key(Role.MARKETING), "kai@unlisted-co.io")
    sign_in(page, live_url, "max@flowline.io", "/queue")
    cut = {}
    for width in (1024, 1280, 1440):
        page.set_viewport_size({"width": width, "height": 900})
        for path in PAGES:
            page.goto(f"{live_url}{path}")
            page.wait_for_load_state("networkidle")
            # A card whose content is wider than the card hides or spills its last columns
            # (into the card's padding, or past its edge).
            over = page.evaluate(
                """[...document.querySelectorAll('.card')].filter(card => {
                    const edge = card.getBoundingClientRect().right
                        - parseFloat(getComputedStyle(card).paddingRight);
                    return card.scrollWidth > card.clientWidth + 1 || [...card.children]
                        .some(child => child.getBoundingClientRect().right > edge + 1);
                }).map(c => (c.querySelector('h2') || c).textContent.trim().slice(0, 40))"""
            )
            if over:
                cut[f"{path} at {width} px"] = over
    assert cut == {}, f"cards narrower than their content: {cut}"
