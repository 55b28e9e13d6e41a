"""A local day's start: the first moment a zone's clocks show its date."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from leadflow.core.local_time import day_start
from tests.core import clock_changes
from tests.core.clock_changes import EPOCH, changes

ZONES = (
    "America/Havana",  # back from 01:00 to 00:00, forward from 00:00 to 01:00
    "Atlantic/Azores",  # back from 01:00 to 00:00 every autumn
    "America/Santiago",  # back from 00:00 to 23:00 the day before, forward from 00:00
    "America/Asuncion",
    "Asia/Beirut",
    "Africa/Cairo",
    *clock_changes.ZONES,
)
CHANGES = {zone: changes(zone) for zone in ZONES}
MICROSECOND = timedelta(microseconds=1)


def _moments(zone: str) -> st.SearchStrategy[datetime]:
    near = st.tuples(st.sampled_from(CHANGES[zone]), st.integers(-2 * 24 * 60, 2 * 24 * 60))
    minutes = st.one_of(near.map(sum), st.integers(0, 4 * 366 * 24 * 60))
    return st.tuples(minutes, st.integers(0, 59)).map(
        lambda m: EPOCH + timedelta(minutes=m[0], seconds=m[1])
    )


zoned = st.sampled_from(ZONES).flatmap(lambda zone: st.tuples(st.just(zone), _moments(zone)))


def test_a_day_whose_midnight_is_shown_twice_starts_at_the_first() -> None:
    # Havana, 2 November 2025: 00:00 at 04:00 UTC (UTC-4), again at 05:00 UTC (UTC-5).
    # Before (in services.reps): during the second 00:xx the day started at the second.
    havana = ZoneInfo("America/Havana")
    first = datetime(2025, 11, 2, 4, 0, tzinfo=UTC)
    for now in (first, first + timedelta(minutes=70), first + timedelta(hours=12)):
        assert day_start(now, havana) == first
        assert day_start(now.astimezone(havana), havana) == first


def test_a_day_without_a_midnight_starts_when_the_clocks_jump() -> None:
    # Havana, 8 March 2026: 23:59:59 (UTC-5) is followed by 01:00 (UTC-4), at 05:00 UTC.
    havana = ZoneInfo("America/Havana")
    jump = datetime(2026, 3, 8, 5, 0, tzinfo=UTC)
    assert day_start(jump + timedelta(minutes=10), havana) == jump
    assert day_start(jump - MICROSECOND, havana) == datetime(2026, 3, 7, 5, 0, tzinfo=UTC)


@settings(max_examples=600, deadline=None, derandomize=True)
@given(zoned=zoned)
def test_the_day_starts_at_the_first_moment_the_clocks_show_its_date(
    zoned: tuple[str, datetime],
) -> None:
    zone, now = zoned
    tz = ZoneInfo(zone)
    start = day_start(now, tz)
    today = now.astimezone(tz).date()
    assert start.tzinfo is UTC
    assert start <= now
    assert start.astimezone(tz).date() == today
    assert (start - MICROSECOND).astimezone(tz).date() < today
    # Whichever zone `now` is given in, and wherever in the day: one start.
    assert day_start(now.astimezone(tz), tz) == start
    assert day_start(start, tz) == start
