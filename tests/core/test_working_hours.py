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
