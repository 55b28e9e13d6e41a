"""Every page loads without a request the server cannot answer: the browser's own request for
an icon included, so the console stays clean for a newcomer who opens it."""

from __future__ import annotations

import pytest
from playwright.sync_api import ConsoleMessage, Page, Response

from tests.web.test_pages import people, sign_in

__all__ = ["people"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_pages_ask_for_nothing_missing(page: Page, live_url: str, people: None) -> None:
    missing: list[str] = []

    def answered(response: Response) -> None:
        if response.status == 404:
            missing.append(response.url)

    def said(message: ConsoleMessage) -> None:  # the icon's request shows only here
        if message.type == "error":
            missing.append(message.text)

    page.on("response", answered)
    page.on("console", said)
    sign_in(page, live_url, "max@flowline.io", "/queue")
    page.wait_for_url(f"{live_url}/queue")
    for path in ("/dashboard", "/team", "/notifications"):
        page.goto(f"{live_url}{path}")
        page.wait_for_load_state("networkidle")
    page.goto(f"{live_url}/login")
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(500)  # the icon is asked for after the page has loaded
    assert missing == []
