"""Report periods and digest schedules, in every zone and on every day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from leadflow.core.periods import next_run
from tests.core import clock_changes
from tests.core.clock_changes import EPOCH, changes

# Cairo's clocks go forward at midnight: 00:00 does not exist that day.
ZONES = (*clock_changes.ZONES, "Africa/Cairo")


CHANGES = {zone: changes(zone) for zone in ZONES}


def _moments(zone: str) -> st.SearchStrategy[datetime]:
    near = st.tuples(st.sampled_from(CHANGES[zone]), st.integers(-2 * 24 * 60, 2 * 24 * 60))
    seconds = st.one_of(near.map(sum), st.integers(0, 4 * 366 * 24 * 60)).map(lambda m: m * 60)
    return st.tuples(seconds, st.integers(0, 59)).map(
        lambda s: EPOCH + timedelta(seconds=s[0] + s[1])
    )


zoned = st.sampled_from(ZONES).flatmap(lambda zone: st.tuples(st.just(zone), _moments(zone)))
days = st.sampled_from(("daily", "mon", "tue", "wed", "thu", "fri", "sat", "sun"))
clocks = st.sampled_from(("00:00", "00:30", "01:30", "02:00", "02:15", "02:30", "09:00", "23:59"))


def test_a_schedule_in_the_hour_the_clocks_repeat_is_next_due_in_the_future() -> None:
    # Before: times were compared on the wall clock, so after a run at the first 02:30 of
    # 25 October in Berlin, a look during the repeated hour (02:10 the second time, 01:10 UTC)
    # found 02:30 still ahead and named the first 02:30, already past: the digest went out
    # again on every look until the second 02:30.
    assert next_run("sun 02:30", "Europe/Berlin", datetime(2026, 10, 25, 1, 10, tzinfo=UTC)) == (
        datetime(2026, 11, 1, 1, 30, tzinfo=UTC)  # a week on, UTC+1
    )
    assert next_run("daily 01:30", "America/New_York", datetime(2026, 11, 1, 6, 5, tzinfo=UTC)) == (
        datetime(2026, 11, 2, 6, 30, tzinfo=UTC)
    )
    # The first showing of a repeated time is the run: 02:30 UTC+2 (00:30 UTC).
    assert next_run("sun 02:30", "Europe/Berlin", datetime(2026, 10, 25, 0, 0, tzinfo=UTC)) == (
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    )


def test_a_schedule_at_a_time_the_clocks_skip_runs_when_they_jump() -> None:
    # 29 March 2026 in Berlin: 02:00 is followed by 03:00; a run at 02:30 is due at 03:00
    # (01:00 UTC), the moment the clocks pass it. Before: 03:30.
    assert next_run("sun 02:30", "Europe/Berlin", datetime(2026, 3, 29, 0, 10, tzinfo=UTC)) == (
        datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    )
    # Cairo, 24 April 2026: midnight does not exist, the day starts at 01:00 (UTC+3).
    assert next_run("daily 00:00", "Africa/Cairo", datetime(2026, 4, 23, 12, 0, tzinfo=UTC)) == (
        datetime(2026, 4, 23, 22, 0, tzinfo=UTC)
    )


@settings(max_examples=400, deadline=None, derandomize=True)
@given(zoned=zoned, day=days, clock=clocks, elsewhere=st.sampled_from(ZONES))
def test_a_schedules_next_run_is_ahead_at_its_local_time_in_any_zone(
    zoned: tuple[str, datetime], day: str, clock: str, elsewhere: str
) -> None:
    zone, after = zoned
    tz = ZoneInfo(zone)
    schedule = f"{day} {clock}"
    run = next_run(schedule, zone, after)
    assert after < run <= after + timedelta(days=8)
    assert next_run(schedule, zone, after.astimezone(ZoneInfo(elsewhere))) == run
    local = run.astimezone(tz)
    hour, minute = map(int, clock.split(":"))
    stated = local.replace(hour=hour, minute=minute, second=0, microsecond=0, fold=0)
    if stated.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == stated.replace(tzinfo=None):
        # The time exists that day: the run is at it, on the day it names.
        assert (local.hour, local.minute, local.second, local.fold) == (hour, minute, 0, 0)
    else:
        # Skipped that day: the run is the moment the clocks jumped over it.
        assert (run - timedelta(seconds=1)).astimezone(tz).time() < stated.time()
    if day != "daily":
        assert local.strftime("%a").lower() == day or local.time() != stated.time()
    # Nothing between: the run before this one is not after `after`.
    assert next_run(schedule, zone, run - timedelta(seconds=1)) == run
