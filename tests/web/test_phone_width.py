"""Every page usable on a phone: at 390 px wide nothing makes the page scroll sideways; on a
desktop no card cuts off its content. Both save a screenshot of every page (phone-*.png,
desktop-*.png in test-artifacts/screenshots)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import Page
from sqlalchemy import update

from leadflow.core.roles import Role
from leadflow.models.lead import Lead
from leadflow.services import users
from tests.web.test_pages import PASSWORD, demo_request, people, shot, sign_in

__all__ = ["people"]

PHONE = {"width": 390, "height": 844}
# Every page of the app a manager can open (rep 1 is Nora, made by `people`), then the
# administrator's own; the sign-in page is checked signed out.
PAGES = ["/queue", "/leads/kai@unlisted-co.io", "/dashboard", "/plan", "/playbook",
         "/playbook/compare", "/team", "/team/reps/new", "/team/reps/1",
         "/team/route?lead=kai@unlisted-co.io", "/alerts", "/notifications"]  # fmt: skip
ADMIN_PAGES = ["/audit"]
ADMIN = "ada@flowline.io"


def widths_of(page: Page, base: str, paths: list[str], prefix: str) -> dict[str, int]:
    """Each page's scroll width, a screenshot of each saved as it goes."""
    found = {}
    for path in paths:
        page.goto(f"{base}{path}")
        page.wait_for_load_state("networkidle")
        found[path] = page.evaluate("document.documentElement.scrollWidth")
        shot(page, prefix + path.split("?")[0].replace("/", "-").replace("@", "-"))
    return found


def sign_in_as_admin(page: Page, app: FastAPI, base: str) -> None:
    """Sign out, then in as an administrator (made here: `people` has none)."""
    with app.state.sessions() as session, session.begin():
        users.create_user(session, email=ADMIN, name="Ada Admin", role="admin",
                          password=PASSWORD, now=datetime.now(UTC))  # fmt: skip
    page.context.clear_cookies()
    sign_in(page, base, ADMIN, ADMIN_PAGES[0])


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_no_page_is_wider_than_a_phone(
    page: Page, live_url: str, client: TestClient, make_key: Callable[[Role], str], people: None,
    app: FastAPI,
) -> None:  # fmt: skip
    demo_request(client, make_key(Role.MARKETING), "kai@unlisted-co.io")
    page.set_viewport_size(PHONE)
    widths = widths_of(page, live_url, ["/login"], "phone")
    sign_in(page, live_url, "max@flowline.io", "/queue")
    page.wait_for_selector('tr[data-email="kai@unlisted-co.io"]')
    widths |= widths_of(page, live_url, PAGES, "phone")
    sign_in_as_admin(page, app, live_url)
    widths |= widths_of(page, live_url, ADMIN_PAGES, "phone")
    assert len(widths) == len(PAGES) + len(ADMIN_PAGES) + 1
    wide = {path: width for path, width in widths.items() if width > PHONE["width"]}
    assert wide == {}, f"wider than {PHONE['width']} px: {wide}"


DESKTOP_WIDTHS = (1024, 1280, 1440)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_no_card_cuts_off_its_content_on_a_desktop(
    page: Page, live_url: str, client: TestClient, make_key: Callable[[Role], str], people: None,
    app: FastAPI,
) -> None:  # fmt: skip
    demo_request(client, make_key(Role.MARKETING), "kai@unlisted-co.io")
    sign_in(page, live_url, "max@flowline.io", "/queue")
    cut = {}
    for path, width in visits_at_desktop_widths(page, app, live_url):
        if width == 1280:
            shot(page, "desktop" + path.split("?")[0].replace("/", "-").replace("@", "-"))
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


def visits_at_desktop_widths(page: Page, app: FastAPI, base: str) -> Iterator[tuple[str, int]]:
    """Open every page (the manager's, then the administrator's) and lay it out at three
    desktop widths, narrowest first, yielding each (path, width) once it is laid out. The
    layout is CSS alone (no script of ours measures the window), so a loaded page resized is
    laid out as one loaded at that width; two frames let the editor re-measure itself."""
    for paths in (PAGES, ADMIN_PAGES):
        if paths is ADMIN_PAGES:
            sign_in_as_admin(page, app, base)
        for path in paths:
            page.set_viewport_size({"width": DESKTOP_WIDTHS[0], "height": 900})
            page.goto(f"{base}{path}")
            page.wait_for_load_state("networkidle")
            for width in DESKTOP_WIDTHS:
                page.set_viewport_size({"width": width, "height": 900})
                page.evaluate("() => new Promise(done => requestAnimationFrame("
                              "() => requestAnimationFrame(done)))")  # fmt: skip
                yield path, width


# Inputs whose hint is wider than the room inside them: the hint is cut off (the queue's
# "Reason / amount" read "Reason / amour" at 1280 px).
CUT_PLACEHOLDERS = """[...document.querySelectorAll('input[placeholder], textarea[placeholder]')]
    .filter(input => {
        const style = getComputedStyle(input);
        const pen = document.createElement('canvas').getContext('2d');
        pen.font = style.font;
        const room = input.clientWidth - parseFloat(style.paddingLeft)
            - parseFloat(style.paddingRight);
        return input.offsetParent !== null && pen.measureText(input.placeholder).width > room;
    }).map(input => input.placeholder)"""


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_no_placeholder_is_cut_off_on_a_desktop_or_a_phone(
    page: Page, live_url: str, client: TestClient, make_key: Callable[[Role], str], people: None,
) -> None:  # fmt: skip
    demo_request(client, make_key(Role.MARKETING), "kai@unlisted-co.io")
    sign_in(page, live_url, "max@flowline.io", "/queue")
    page.wait_for_selector('tr[data-email="kai@unlisted-co.io"]')
    cut = {}
    for width in (1280, PHONE["width"]):
        page.set_viewport_size({"width": width, "height": 900})
        for path in PAGES:
            page.goto(f"{live_url}{path}")
            page.wait_for_load_state("networkidle")
            hints = page.evaluate(CUT_PLACEHOLDERS)
            if hints:
                cut[f"{path} at {width} px"] = hints
    assert cut == {}, f"placeholders cut off: {cut}"


# Controls a person cannot read or reach whole: cut off by a box that hides what overflows it,
# or a button whose label breaks over lines (at 390 px "Replay" stood one letter a line).
CUT_CONTROLS = """[...document.querySelectorAll('button, input, select, textarea, a')]
    .filter(control => {
        if (control.offsetParent === null || control.type === 'hidden') return false;
        const box = control.getBoundingClientRect();
        for (let up = control.parentElement; up; up = up.parentElement) {
            const style = getComputedStyle(up);
            if (![style.overflowX, style.overflowY].some(o => o === 'hidden' || o === 'clip')) {
                continue;
            }
            const edge = up.getBoundingClientRect();
            if (box.top < edge.top - 1 || box.bottom > edge.bottom + 1
                || box.left < edge.left - 1 || box.right > edge.right + 1) return true;
        }
        if (control.tagName !== 'BUTTON') return false;
        const style = getComputedStyle(control);
        const high = control.clientHeight - parseFloat(style.paddingTop)
            - parseFloat(style.paddingBottom);
        return high > 1.5 * parseFloat(style.lineHeight);
    }).map(control => (control.textContent || control.name || '').trim().slice(0, 40))"""


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_no_control_is_cut_off_or_broken_on_a_desktop_or_a_phone(
    page: Page, live_url: str, client: TestClient, make_key: Callable[[Role], str], people: None,
) -> None:  # fmt: skip
    demo_request(client, make_key(Role.MARKETING), "kai@unlisted-co.io")  # rings Nora's bell
    cut = {}
    for email, paths in (("nora@flowline.io", ["/notifications"]), ("max@flowline.io", PAGES)):
        page.context.clear_cookies()
        sign_in(page, live_url, email, paths[0])
        page.wait_for_load_state("networkidle")
        for width in (1280, PHONE["width"]):
            page.set_viewport_size({"width": width, "height": 900})
            for path in paths:
                page.goto(f"{live_url}{path}")
                page.wait_for_load_state("networkidle")
                controls = page.evaluate(CUT_CONTROLS)
                if controls:
                    cut[f"{email} {path} at {width} px"] = controls
    assert cut == {}, f"controls cut off or broken over lines: {cut}"


# The figures at the top of a lead's page: what each card shows must fit inside it.
CUT_FIGURES = """[...document.querySelectorAll('.kpi')].filter(card => {
        const edge = card.getBoundingClientRect().right
            - parseFloat(getComputedStyle(card).paddingRight);
        return card.scrollWidth > card.clientWidth + 1 || [...card.querySelectorAll('*')]
            .some(child => child.getBoundingClientRect().right > edge + 1);
    }).map(card => card.textContent.trim().replace(/\\s+/g, ' '))"""


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_leads_owner_fits_its_card_on_a_desktop_and_a_phone(
    page: Page, live_url: str, client: TestClient, make_key: Callable[[Role], str], people: None,
    app: FastAPI,
) -> None:  # fmt: skip
    demo_request(client, make_key(Role.MARKETING), "kai@unlisted-co.io")
    with app.state.sessions() as session, session.begin():  # an e-mail of an ordinary length
        session.execute(update(Lead).where(Lead.email == "kai@unlisted-co.io")
                        .values(owner="samuel.okafor@flowline.example"))  # fmt: skip
    sign_in(page, live_url, "max@flowline.io", "/leads/kai@unlisted-co.io")
    page.wait_for_load_state("networkidle")
    cut = {}
    for width in (1280, PHONE["width"]):
        page.set_viewport_size({"width": width, "height": 900})
        page.evaluate("() => new Promise(done => requestAnimationFrame("
                      "() => requestAnimationFrame(done)))")  # fmt: skip
        cards = page.evaluate(CUT_FIGURES)
        if cards:
            cut[width] = cards
    # Before, the owner ran past its card's edge at 1280 px and was cut off at 390 px.
    assert cut == {}, f"figures wider than their card: {cut}"
