"""The example playbooks score hand-checkable leads to the exact expected points."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from leadflow.core.facts import EventFacts, lead_facts
from leadflow.core.playbook import Playbook
from leadflow.core.playbook_text import parse_playbook
from leadflow.core.scoring import score_from_events

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def example(name: str) -> Playbook:
    return parse_playbook((EXAMPLES / name).read_text())


def event(
    key: str, kind: str, days_ago: float, name: str | None = None, **props: str
) -> EventFacts:
    return EventFacts(key, kind, NOW - timedelta(days=days_ago), name, props)


def test_b2b_vp_of_operations_at_a_top_account() -> None:
    book = example("b2b_saas.yaml")
    lead = {"email": "olivia@northwind-logistics.com", "title": "VP Operations", "country": "US"}
    account = {"domain": "northwind-logistics.com", "employees": 120, "industry": "Logistics"}
    facts = lead_facts(lead, account, "top")
    events = [
        event("1", "track", 0, "Demo Requested"),
        event("2", "page", 30, path="/pricing"),
        event("3", "track", 60, "Email Clicked"),
    ]
    score = score_from_events(book, facts, events, NOW)
    by_rule = {c.rule: c.points for c in score.contributions}
    # Fit: senior title 20 + 120 employees inside the 50-200 band 20 + Logistics 15 + US 5
    # + top-tier account 20 = 80.
    assert by_rule["title_senior"] == 20
    assert by_rule["company_size"] == 20
    assert by_rule["industry_fit"] == 15
    assert by_rule["region"] == 5
    assert by_rule["tier:top"] == 20
    assert score.fit == 80
    # Engagement (half-life 30 days): demo request today 40; the pricing view 30 days ago is
    # one half-life old: page view 1 -> 0.5 and pricing 10 -> 5; the e-mail click 60 days
    # ago is two half-lives old: 3 -> 0.75. 40 + 0.5 + 5 + 0.75 = 46.25.
    assert by_rule["demo_request"] == 40
    assert by_rule["page_view"] == 0.5
    assert by_rule["pricing_page"] == 5
    assert by_rule["email_click"] == 0.75
    assert score.engagement == 46.25
    assert score.total == 126.25
    assert score.grade == "A2"  # fit 80 >= 60 (A); engagement 46.25 >= 30 but < 60 (2)
    assert score.persona is not None and score.persona.id == "ops_leader"
    assert sum(c.points for c in score.contributions) == pytest.approx(score.total, abs=1e-9)


def test_b2b_negative_rules_subtract() -> None:
    book = example("b2b_saas.yaml")
    facts = lead_facts({"email": "sam@gmail.com", "title": "Student"}, None, None)
    score = score_from_events(book, facts, [event("1", "track", 0, "Unsubscribed")], NOW)
    by_rule = {c.rule: c.points for c in score.contributions}
    assert by_rule == {"free_mail": -15, "unsubscribed": -20}
    assert (score.fit, score.engagement, score.total, score.grade) == (-15, -20, -35, "D4")


def test_b2c_remote_worker_with_back_pain() -> None:
    book = example("b2c_chairs.yaml")
    lead = {"email": "rachel@example.com", "country": "US"}
    lead["attributes"] = {"works_remotely": True, "back_pain": True, "chair_budget": 800}
    facts = lead_facts(lead)
    events = [
        event("1", "track", 0, "Fitting Booked"),
        event("2", "page", 0, path="/chairs/aeron"),
        event("3", "page", 0, path="/chairs/leap"),
        event("4", "page", 14, path="/chairs/leap"),
        event("5", "track", 100, "Unsubscribed"),
    ]
    score = score_from_events(book, facts, events, NOW)
    by_rule = {c.rule: c.points for c in score.contributions}
    # Fit: remote 20 + back pain 25 + a $800 budget inside the $500-1,500 band 25 = 70;
    # US is inside the shipping area, so no -40.
    assert (by_rule["remote"], by_rule["back_pain"], by_rule["budget"]) == (20, 25, 25)
    assert "outside_shipping" not in by_rule
    # Engagement (half-life 14 days): fitting 40; chair pages 3 + 3 today and 3 -> 1.5 one
    # half-life ago = 7.5; the unsubscribe never decays: -20. 40 + 7.5 - 20 = 27.5.
    assert (by_rule["showroom"], by_rule["product_page"], by_rule["unsubscribed"]) == (40, 7.5, -20)
    assert (score.fit, score.engagement, score.total) == (70, 27.5, 97.5)
    assert score.grade == "A2"  # engagement 27.5 >= 25 (2) but < 45 (1)
    assert score.persona is not None and score.persona.id == "remote_back_pain"


def test_b2c_budget_points_fall_linearly_outside_the_band() -> None:
    book = example("b2c_chairs.yaml")
    budget = {1500: 25, 1650: 12.5, 1800: 0, 350: 12.5, 200: 0}  # zero_at 300 dollars away
    for value, points in budget.items():
        facts = lead_facts(
            {"email": "x@y.io", "country": "CA", "attributes": {"chair_budget": value}}
        )
        by_rule = {c.rule: c.points for c in score_from_events(book, facts, [], NOW).contributions}
        assert by_rule.get("budget", 0) == points, value


def test_b2c_outside_the_shipping_area_costs_40() -> None:
    book = example("b2c_chairs.yaml")
    facts = lead_facts({"email": "x@y.io", "country": "FR"})
    assert score_from_events(book, facts, [], NOW).fit == -40
