"""The queue's "Why": what tipped the lead, this week's activity by rule, persona, talking point."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from leadflow.core.facts import EventFacts
from leadflow.core.playbook_text import parse_playbook
from leadflow.core.queue_why import ranked, week_counts, why

BOOK = parse_playbook((Path(__file__).resolve().parents[2] / "examples/b2b_saas.yaml").read_text())
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def page(n: int, path: str, days_ago: float) -> EventFacts:
    return EventFacts(str(n), "page", NOW - timedelta(days=days_ago), None, {"path": path})


def signals(events: list[EventFacts]) -> tuple[str, ...]:
    return ranked(BOOK, week_counts(BOOK, events, NOW))


def test_signals_count_this_weeks_events_by_rule_weightiest_first() -> None:
    events = [page(n, "/pricing", 1) for n in range(10)]
    events += [page(20, "/pricing", 9)]  # last week: not counted
    events += [EventFacts("30", "track", NOW - timedelta(hours=2), "Demo Requested")]
    events += [page(40, "/careers", 1)]  # negative points: not a reason to call
    found = signals(events)
    # weighed as the rules pay: pricing is capped at 30, the window pays its 10 once
    assert found == ("Requested a demo", "Viewed pricing x10", "Viewed a page x11")


def test_why_names_the_persona_and_its_first_talking_point() -> None:
    said = why(BOOK, persona_id="ops_leader", grade="A1", score=120.5,
               move_reason="Demo requested: Demo Requested", moved_at=NOW, week={})  # fmt: skip
    assert said.persona == "Operations Olivia"
    assert said.talking_point == "Ask which hand-off costs the most rework each week."
    assert said.tipped == "Demo requested"  # the label and the event said the same
    moved = why(BOOK, persona_id=None, grade=None, score=0, move_reason="entered mql: (fit gte 40)",
                moved_at=NOW, week={})  # fmt: skip
    assert moved.tipped == "entered mql: (fit gte 40)"
    assert said.signals == ()
    nobody = why(BOOK, persona_id=None, grade=None, score=0, move_reason=None, moved_at=None,
                 week={})  # fmt: skip
    assert nobody.persona is None and nobody.talking_point is None


def test_a_window_rule_is_a_signal_only_when_the_week_holds_its_count() -> None:
    two = [page(n, "/", 1) for n in range(2)]
    assert signals(two) == ("Viewed a page x2",)
    five = [page(n, "/", 1) for n in range(5)]
    assert signals(five) == ("Five or more visits in a week", "Viewed a page x5")


def test_why_ranks_the_weeks_counts_and_ignores_rules_it_does_not_know() -> None:
    week = {"pricing_page": 10, "demo_request": 1, "careers_page": 3, "retired_rule": 4}
    said = why(BOOK, persona_id=None, grade="A1", score=90, move_reason=None, moved_at=None,
               week=week)  # fmt: skip
    assert said.signals == ("Requested a demo", "Viewed pricing x10")
