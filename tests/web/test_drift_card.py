"""The dashboard's calibration drift card in Chromium: the verdict, the chart drawn from the
page's JSON block, the figures as a table, clean for axe, and within a phone's width."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from playwright.sync_api import Page, expect

from tests.services.drift_history import close_november, trained_model
from tests.web.test_accessibility import violations
from tests.web.test_pages import people, shot, sign_in

__all__ = ["people"]

DRAWN = """() => {
  const chart = Chart.getChart(document.getElementById("drift"));
  return chart ? chart.data.datasets.map((d) => [d.label, d.data.length]) : null;
}"""


FITS = """(() => {
  const card = document.getElementById("drift-card");
  const edge = card.getBoundingClientRect().right - parseFloat(getComputedStyle(card).paddingRight);
  return card.scrollWidth <= card.clientWidth + 1
    && [...card.querySelectorAll("*")].every((e) => e.getBoundingClientRect().right <= edge + 1);
})()"""


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_drift_card_shows_predictions_running_high(
    page: Page, live_url: str, app: FastAPI, people: None
) -> None:
    with app.state.sessions() as session, session.begin():
        trained_model(session)
        close_november(session, {"partner": 35, "ads": 20})
    sign_in(page, live_url, "mia@flowline.io", "/dashboard")
    page.wait_for_url(f"{live_url}/dashboard")
    page.goto(f"{live_url}/dashboard?period=2026-11")
    # One period field, read two ways: the page says so where the period is chosen.
    expect(page.get_by_label("Period", exact=True)).to_have_value("2026-11")
    expect(page.locator("#period-means")).to_contain_text("leads won or lost in it")
    card = page.locator("#drift-card")
    expect(card.locator(".verdict.drifted")).to_contain_text("Predictions run 22 points high")
    page.wait_for_load_state("networkidle")
    assert page.evaluate(DRAWN) == [["This period", 2], ["At validation", 2], ["Perfect", 2]]
    box = card.locator("canvas#drift").bounding_box()
    assert box is not None and box["width"] > 200 and box["height"] > 150
    rows = card.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(1)).to_contain_text("70-80%")
    expect(rows.nth(1)).to_contain_text("35%")
    assert violations(page) == []
    shot(page, "dashboard-drift")
    for width in (1024, 1280, 1440):  # the card holds its table and chart on a desktop
        page.set_viewport_size({"width": width, "height": 900})
        page.reload()
        page.wait_for_load_state("networkidle")
        assert page.evaluate(FITS), f"the drift card spills at {width} px"
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    page.wait_for_load_state("networkidle")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    phone = card.locator("canvas#drift").bounding_box()
    assert phone is not None and 0 < phone["width"] <= 390
    shot(page, "phone-dashboard-drift")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_no_chart_of_nothing(page: Page, live_url: str, app: FastAPI, people: None) -> None:
    sign_in(page, live_url, "mia@flowline.io", "/dashboard")
    page.wait_for_url(f"{live_url}/dashboard")
    card = page.locator("#drift-card")
    expect(card.locator(".verdict")).to_contain_text("No model is serving predictions yet")
    expect(card.locator("canvas")).to_have_count(0)
    assert "drift" not in page.evaluate(
        "JSON.parse(document.getElementById('chart-data').textContent)"
    )
