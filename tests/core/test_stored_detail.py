"""A stored contribution's why, told from the playbook and what every path stores."""

from __future__ import annotations

from leadflow.core.playbook_text import parse_playbook
from leadflow.core.scoring import stored_detail

BOOK = parse_playbook("""
name: Why
fit:
  rules:
    - {id: senior, label: Senior, points: 20, when: {field: title, regex: "(?i)vp|head"}}
engagement:
  half_life_days: 30
  rules:
    - {id: pages, label: Pages, points: 5, cap: 25, event: {type: page}}
    - {id: burst, label: Burst, points: 10, event: {type: page}, window: {count: 2, days: 3}}
""")


def test_each_kind_of_rule_says_why_from_the_playbook() -> None:
    assert "title" in stored_detail(BOOK, {"rule": "senior", "kind": "fit", "points": 20})
    pages = {"rule": "pages", "kind": "engagement", "points": 14.2, "event_count": 3}
    assert stored_detail(BOOK, pages) == "3 x 5, half-life 30 days"
    capped = {**pages, "points": 25.0, "event_count": 9}
    assert stored_detail(BOOK, capped) == "9 x 5, half-life 30 days, capped at 25"
    burst = {"rule": "burst", "kind": "engagement", "points": 10, "event_count": 4}
    assert stored_detail(BOOK, burst) == "at least 2 in the last 3 days"


def test_an_entry_without_its_count_or_rule_keeps_what_it_was_stored_with() -> None:
    # An earlier version's re-score stored no count: no "0 x 5" made up for it.
    assert stored_detail(BOOK, {"rule": "pages", "kind": "engagement", "points": 5.0}) == ""
    old = {"rule": "pages", "kind": "engagement", "points": 5.0, "detail": "1 x 5"}
    assert stored_detail(BOOK, old) == "1 x 5"
    gone = {"rule": "removed", "kind": "fit", "points": 3, "detail": "country in [DE]"}
    assert stored_detail(BOOK, gone) == "country in [DE]"
    assert stored_detail(BOOK, {"rule": "tier:top", "kind": "tier", "points": 10}) == ""
