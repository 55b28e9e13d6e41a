"""Counts in words: one of a thing, any other number of things."""

from __future__ import annotations

from leadflow.core.plural import counted


def test_a_count_takes_its_noun_in_the_right_number() -> None:
    assert [counted(n, "lead") for n in (0, 1, 2)] == ["0 leads", "1 lead", "2 leads"]
    assert counted(1, "hand-off") == "1 hand-off" and counted(3, "hand-off") == "3 hand-offs"
    assert counted(1, "opportunity", "opportunities") == "1 opportunity"
    assert counted(2, "opportunity", "opportunities") == "2 opportunities"
    assert counted(12_345, "event") == "12,345 events"
