"""Working weeks and deadlines counted in working time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadflow.core.working_hours import WorkingHours
from tests.core.clock_changes import EPOCH, ZONES, changes

BERLIN = WorkingHours.parse("mon-fri 09:00-17:00", "Europe/Berlin")


def test_parse_and_describe() -> None:
    assert BERLIN.describe() == "mon,tue,wed,thu,fri 09:00-17:00 Europe/Berlin"
    assert WorkingHours.parse("fri-mon 10:00-12:00").days == frozenset({4, 5, 6, 0})
    for bad in ("weekdays 9-5", "mon-funday 09:00-17:00"):
        with pytest.raises(ValueError, match="mon"):
            WorkingHours.parse(bad)
    for empty in ("mon-fri 09:00-09:00", "mon 00:00-00:00"):  # no time, or a whole day?
        with pytest.raises(ValueError, match="00:00-24:00"):
            WorkingHours.parse(empty)
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


# Hand-offs from 2025 to 2028 on whole minutes, half of them within days of a zone's clocks
# going forward or back.
YEARS = 4 * 366 * 24 * 60


CHANGES = {zone: changes(zone) for zone in ZONES}


def _moments(zone: str) -> st.SearchStrategy[datetime]:
    near = st.tuples(st.sampled_from(CHANGES[zone]), st.integers(-3 * 24 * 60, 2 * 24 * 60))
    minutes = st.one_of(near.map(sum), st.integers(0, YEARS))
    return minutes.map(lambda m: EPOCH + timedelta(minutes=m))


zoned = st.sampled_from(ZONES).flatmap(lambda zone: st.tuples(st.just(zone), _moments(zone)))
deterministic = settings(max_examples=300, deadline=None, derandomize=True)


def test_a_deadline_across_the_clocks_going_forward_or_back_counts_real_minutes() -> None:
    # Before: minutes were added to the wall clock, so an hour of the night the clocks
    # skip counted as worked (three hours from 00:30 on 29 March fell due two hours later) and
    # the hour they repeat did not (three hours from 00:30 on 25 October took four).
    always = WorkingHours.parse("mon-sun 00:00-24:00", "Europe/Berlin")
    spring = datetime(2026, 3, 28, 23, 30, tzinfo=UTC)  # 00:30 in Berlin, UTC+1
    assert always.add(spring, 180) == spring + timedelta(hours=3)  # 04:30, UTC+2
    assert always.add(spring, 24 * 60) == spring + timedelta(hours=24)  # a 23-hour day
    autumn = datetime(2026, 10, 24, 22, 30, tzinfo=UTC)  # 00:30 in Berlin, UTC+2
    assert always.add(autumn, 180) == autumn + timedelta(hours=3)  # 02:30 the second time
    nights = WorkingHours.parse("sun 00:00-06:00", "America/New_York")
    # 8 March 2026: 02:00 is 03:00, so the night has five hours; one more is the next Sunday.
    assert nights.add(datetime(2026, 3, 8, 5, 0, tzinfo=UTC), 6 * 60) == datetime(
        2026, 3, 15, 5, 0, tzinfo=UTC
    )
    # 1 November 2026: 01:00-02:00 happens twice, so the night has seven hours.
    assert nights.add(datetime(2026, 11, 1, 4, 0, tzinfo=UTC), 7 * 60) == datetime(
        2026, 11, 1, 11, 0, tzinfo=UTC
    )  # 06:00, UTC-5
    adelaide = WorkingHours.parse("sun 01:00-05:00", "Australia/Adelaide")
    # 4 October 2026, 02:00 (UTC+9:30) is 03:00 (UTC+10:30): three hours of work that night.
    opens = datetime(2026, 10, 3, 15, 30, tzinfo=UTC)  # 01:00 in Adelaide
    assert adelaide.add(opens, 3 * 60) == datetime(2026, 10, 3, 18, 30, tzinfo=UTC)  # 05:00


def test_a_working_day_that_starts_at_a_time_the_clocks_skip_starts_when_they_jump() -> None:
    # 8 March 2026 in New York: 02:00 is followed by 03:00; a day of 02:30-04:00 starts at
    # 03:00 (07:00 UTC), as `is_working` says, with an hour of work.
    odd = WorkingHours.parse("sun 02:30-04:00", "America/New_York")
    start = datetime(2026, 3, 8, 6, 0, tzinfo=UTC)  # 01:00
    assert not odd.is_working(datetime(2026, 3, 8, 6, 59, tzinfo=UTC))
    assert odd.is_working(datetime(2026, 3, 8, 7, 0, tzinfo=UTC))
    assert odd.add(start, 30) == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
    assert odd.add(start, 60) == datetime(2026, 3, 8, 8, 0, tzinfo=UTC)
    assert odd.add(start, 61) == datetime(2026, 3, 15, 6, 31, tzinfo=UTC)  # 02:31 a week on


@deterministic
@given(zoned=zoned, minutes=st.integers(1, 5 * 24 * 60))
def test_round_the_clock_deadlines_are_real_minutes_in_any_zone(
    zoned: tuple[str, datetime], minutes: int
) -> None:
    zone, start = zoned
    always = WorkingHours.parse("mon-sun 00:00-24:00", zone)
    assert always.add(start, minutes) == start + timedelta(minutes=minutes)


def _working_minute(hours: WorkingHours, at: datetime) -> bool:
    """The definition, read off the rep's wall clock: a shift ending at or before its start
    ends the next day."""
    local = at.astimezone(ZoneInfo(hours.zone))
    day, now = local.weekday(), local.time()
    if hours.end is not None and hours.end <= hours.start:  # a night shift
        started_today = day in hours.days and hours.start <= now
        return started_today or ((day - 1) % 7 in hours.days and now < hours.end)
    ends = hours.end is None or now < hours.end
    return day in hours.days and hours.start <= now and ends


schedules = st.sampled_from(
    (
        "mon-fri 09:00-17:00",
        "mon-sun 00:00-06:00",
        "mon-sun 22:00-24:00",
        "sat-mon 00:00-24:00",
        "mon-fri 04:00-24:00",
        "sun-thu 09:30-13:15",
        "mon-fri 22:00-06:00",
        "sat,sun 20:30-02:30",
        "fri 23:00-22:00",
    )
)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(zoned=zoned, text=schedules, minutes=st.integers(1, 600))
def test_a_deadline_leaves_exactly_its_working_minutes_in_any_zone(
    zoned: tuple[str, datetime], text: str, minutes: int
) -> None:
    zone, start = zoned
    hours = WorkingHours.parse(text, zone)
    due = hours.add(start, minutes)
    assert due > start
    worked, at = 0, start
    while at < due:
        worked += _working_minute(hours, at)
        at += timedelta(minutes=1)
    assert worked == minutes
    assert _working_minute(hours, due - timedelta(minutes=1))  # due the moment they are done


@deterministic
@given(
    zoned=zoned,
    text=schedules,
    first=st.floats(0, 3000),
    then=st.floats(0.5, 3000),
    elsewhere=st.sampled_from(ZONES),
)
def test_deadlines_add_up_and_read_the_same_instant_in_any_zone(
    zoned: tuple[str, datetime], text: str, first: float, then: float, elsewhere: str
) -> None:
    zone, start = zoned
    hours = WorkingHours.parse(text, zone)
    due = hours.add(start, first + then)
    assert due >= start
    assert hours.add(start.astimezone(ZoneInfo(elsewhere)), first + then) == due
    # Within float rounding of the sum (a microsecond).
    assert abs(hours.add(hours.add(start, first), then) - due) <= timedelta(microseconds=2)
    assert hours.is_working(due - timedelta(microseconds=1))
    assert hours.is_working(start) == _working_minute(hours, start)


def test_a_deadline_more_than_a_year_of_days_away_is_still_found() -> None:
    # Before: the search gave up after 400 days, so a rep working two hours a week given a
    # week-long SLA (84 weeks of their time) made the hand-off fail.
    saturdays = WorkingHours.parse("sat 10:00-12:00", "Asia/Kolkata")
    start = datetime(2026, 6, 1, tzinfo=UTC)  # a Monday
    due = saturdays.add(start, 7 * 24 * 60)
    assert due == datetime(2028, 1, 8, 6, 30, tzinfo=UTC)  # the 84th Saturday, 12:00 in Kolkata
    assert saturdays.add(start, 120) == datetime(2026, 6, 6, 6, 30, tzinfo=UTC)
    # No working day at all, or a deadline past the calendar, is told, never searched forever.
    with pytest.raises(ValueError, match="no working days"):
        WorkingHours(days=frozenset()).add(start, 5)
    with pytest.raises(ValueError, match="9999"):
        WorkingHours.parse("mon 09:00-09:01").add(datetime(9990, 1, 1, tzinfo=UTC), 10**6)


def test_a_night_shift_runs_into_the_next_morning() -> None:
    # Before: a shift past midnight could not be written ("the day must end after it starts"),
    # so a night desk was given two half-shifts and lost its Monday-night start to Saturday's.
    nights = WorkingHours.parse("mon-fri 22:00-06:00", "Europe/Berlin")
    assert nights.describe() == "mon,tue,wed,thu,fri 22:00-06:00 Europe/Berlin"
    # 2026-06-01 is a Monday; Berlin is UTC+2 in summer.
    assert nights.is_working(datetime(2026, 6, 1, 20, 0, tzinfo=UTC))  # Monday 22:00
    assert nights.is_working(datetime(2026, 6, 2, 3, 59, tzinfo=UTC))  # Tuesday 05:59
    assert not nights.is_working(datetime(2026, 6, 2, 4, 0, tzinfo=UTC))  # Tuesday 06:00
    assert not nights.is_working(datetime(2026, 6, 1, 3, 0, tzinfo=UTC))  # Monday 05:00: Sunday's
    assert nights.is_working(datetime(2026, 6, 6, 3, 0, tzinfo=UTC))  # Saturday 05:00: Friday's
    # 30 minutes from Tuesday 05:50 (in Monday's shift): 10 then, 20 from Tuesday 22:00.
    assert nights.add(datetime(2026, 6, 2, 3, 50, tzinfo=UTC), 30) == datetime(
        2026, 6, 2, 20, 20, tzinfo=UTC
    )
    # From Saturday noon the next shift is Monday night's.
    assert nights.add(datetime(2026, 6, 6, 10, 0, tzinfo=UTC), 60) == datetime(
        2026, 6, 8, 21, 0, tzinfo=UTC
    )
    # The night the clocks go back (25 October 2026, 03:00 is 02:00 again) has nine hours.
    saturday_night = WorkingHours.parse("sat 22:00-06:00", "Europe/Berlin")
    opens = datetime(2026, 10, 24, 20, 0, tzinfo=UTC)  # 22:00, UTC+2
    assert saturday_night.add(opens, 9 * 60) == datetime(2026, 10, 25, 5, 0, tzinfo=UTC)  # 06:00


def test_a_working_day_starts_at_midnight_or_when_the_night_shift_ended() -> None:
    # What a rep's daily capacity counts from: midnight on their clock, or for a night shift
    # the morning its last shift ended, so one night's hand-offs are one day's.
    tuesday = datetime(2026, 6, 2, tzinfo=UTC)  # Berlin is UTC+2
    assert BERLIN.day_start(tuesday + timedelta(hours=10)) == tuesday - timedelta(hours=2)
    nights = WorkingHours.parse("mon-fri 22:00-06:00", "Europe/Berlin")
    monday_morning = tuesday - timedelta(hours=20)  # Monday 06:00 in Berlin
    for at in (monday_morning, tuesday - timedelta(hours=3), tuesday + timedelta(hours=3)):
        assert nights.day_start(at) == monday_morning  # Monday 06:00 to Tuesday 05:59
    assert nights.day_start(tuesday + timedelta(hours=4)) == tuesday + timedelta(hours=4)
    assert nights.day_start(monday_morning - timedelta(seconds=1)) == monday_morning - timedelta(
        days=1
    )
