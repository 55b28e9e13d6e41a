"""Account score: the company's fit plus its whole buying group's engagement."""

from __future__ import annotations

from pathlib import Path

from leadflow.core.accounts import score_account
from leadflow.core.playbook_text import parse_playbook

BOOK = parse_playbook((Path(__file__).resolve().parents[2] / "examples/b2b_saas.yaml").read_text())
ACCOUNT = {"domain": "acme.io", "employees": 120, "industry": "Logistics", "tier": "top"}


def test_the_buying_group_counts_together_not_just_the_best_lead() -> None:
    score = score_account(BOOK, ACCOUNT, [40.0, 20.0, 5.0, 0.0])
    # Account fit: size 20 + industry 15 + top tier 20 = 55 (title and region are people's).
    assert score.fit == 55
    assert score.engagement == 65  # 40 + 20 + 5, all of it, not the best lead's 40
    assert score.total == 120
    assert (score.engaged_leads, score.leads) == (2, 4)  # engaged means 15 points or more
    assert score.contributions[-1].detail == "2 of 4 people engaged"


def test_the_group_engagement_is_capped_and_ignores_negative_people() -> None:
    score = score_account(BOOK, ACCOUNT, [200.0, 150.0, -20.0])
    assert score.engagement == 300  # account_scoring.engagement_cap
