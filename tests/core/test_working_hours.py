"""Working weeks and deadlines counted in working time."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from leadflow.core.working_hours import WorkingHours

BERLIN = WorkingHours.parse("mon-fri 09:00-17:00", "Europe/Berlin")


def test_parse_and_describe() -> None:
    assert BERLIN.describe() == "mon,tue,wed,thu,fri 09:00-17:00 Europe/Berlin"
    assert WorkingHours.parse("fri-mon 10:00-12:00").days == frozenset({4, 5, 6, 0})
    for bad in ("weekdays 9-5", "mon-fri 17:00-09:00", "mon-funday 09:00-17:00"):
        with pytest.raises(ValueError, match="mon"):
            WorkingHours.parse(bad)
    with pytest.raises(ValueError):
        WorkingHours.parse("mon-fri 09:00-17:00", "Mars/Olympus")


def test_is_working_uses_the_reps_time_zone() -> None:
    # 2026-06-01 is a Monday; Berlin is UTC+2 in summer.
    assert BERLIN.is_working(datetime(2026, 6, 1, 7, 0, tzinfo=UTC))  # 09:00 in Berlin
    assert not BERLIN.is_working(datetime(2026, 6, 1, 6, 59, tzinfo=UTC))
    assert not BERLIN.is_working(datetime(2026, 6, 6, 10, 0, tzinfo=UTC))  # Saturday


def test_deadlines_count_only_working_time() -> None:
    friday_late = datetime(2026, 6, 5, 14, 50, tzinfo=UTC)  # 16:50 in Berlin, 10 minutes left
    # 5 working minutes fit on Friday; 30 run 20 minutes into Monday morning.
    assert BERLIN.add(friday_late, 5) == datetime(2026, 6, 5, 14, 55, tzinfo=UTC)
    assert BERLIN.add(friday_late, 30) == datetime(2026, 6, 8, 7, 20, tzinfo=UTC)
    night = datetime(2026, 6, 2, 1, 0, tzinfo=UTC)  # 03:00 Tuesday in Berlin
    assert BERLIN.add(night, 60) == datetime(2026, 6, 2, 8, 0, tzinfo=UTC)  # 10:00 Berlin
    assert BERLIN.add(night, 8 * 60) == datetime(2026, 6, 2, 15, 0, tzinfo=UTC)  # a whole day


def test_a_day_that_ends_at_midnight_loses_no_minute() -> None:
    # Before: a round-the-clock rep could only be given 00:00-23:59, so each midnight skipped a
    # minute and a 5-minute deadline started at 23:58 fell at 00:04 (a test near midnight
    # failed by that minute); 24:00 was not accepted.
    always = WorkingHours.parse("mon-sun 00:00-24:00")
    assert always.describe() == "mon,tue,wed,thu,fri,sat,sun 00:00-24:00 UTC"
    start = datetime(2026, 11, 30, 23, 58, tzinfo=UTC)
    assert always.add(start, 5) == datetime(2026, 12, 1, 0, 3, tzinfo=UTC)
    assert always.add(start, 3 * 24 * 60) == datetime(2026, 12, 3, 23, 58, tzinfo=UTC)
    assert always.is_working(datetime(2026, 11, 30, 23, 59, 59, tzinfo=UTC))
    evenings = WorkingHours.parse("fri 18:00-24:00", "Europe/Berlin")
    assert evenings.add(datetime(2026, 6, 5, 21, 30, tzinfo=UTC), 60) == datetime(
        2026, 6, 12, 16, 30, tzinfo=UTC
    )  # 23:30-24:00 in Berlin, then the next Friday from 18:00
    for bad in ("mon-fri 24:00-24:00", "mon-fri 09:00-24:01", "mon-fri 24:00-09:00"):
        with pytest.raises(ValueError):
            WorkingHours.parse(bad)
