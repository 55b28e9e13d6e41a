"""Report periods as people write them: `2026-11`, `2026-Q4`, `2026`."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from leadflow.core.local_time import instant

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-[Qq]([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")


# Reports look back from a period (a plan's history window, last year's comparison): years
# near 1 or 9999 would take dates out of range.
FIRST_YEAR, LAST_YEAR = 1900, 9998


def _month_start(year: int, month: int) -> datetime:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(f"year {year} is outside {FIRST_YEAR}-{LAST_YEAR}")
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return datetime(year, month, 1, tzinfo=UTC)


def parse_period(text: str) -> tuple[datetime, datetime]:
    """[start, end) of a month, quarter or year; ValueError names what was expected."""
    text = text.strip()
    if match := _MONTH.match(text):
        year, month = int(match[1]), int(match[2])
        if not 1 <= month <= 12:
            raise ValueError(f"{text!r}: month {month} does not exist")
        return _month_start(year, month), _month_start(year, month + 1)
    if match := _QUARTER.match(text):
        year, quarter = int(match[1]), int(match[2])
        return _month_start(year, 3 * quarter - 2), _month_start(year, 3 * quarter + 1)
    if match := _YEAR.match(text):
        year = int(match[1])
        return _month_start(year, 1), _month_start(year + 1, 1)
    raise ValueError(f"{text!r}: expected a month (2026-11), a quarter (2026-Q4) or a year (2026)")


def current_period(kind: str, now: datetime) -> str:
    """The month, quarter or year `now` falls in, written as `parse_period` reads it."""
    if kind == "month":
        return f"{now.year}-{now.month:02d}"
    if kind == "quarter":
        return f"{now.year}-Q{(now.month - 1) // 3 + 1}"
    if kind == "year":
        return str(now.year)
    raise ValueError(f"{kind!r}: expected month, quarter or year")


def months_between(start: datetime, end: datetime) -> float:
    """How many months [start, end) spans: each whole month 1, a part of one its share of
    that month's time (half of September: 0.5); 0 when end is not after start."""
    months = 0.0
    first = start.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    while first < end:
        after = first.replace(year=first.year + first.month // 12, month=first.month % 12 + 1)
        if start <= first and after <= end:
            months += 1
        else:
            overlap = min(end, after) - max(start, first)
            months += max(overlap.total_seconds(), 0.0) / (after - first).total_seconds()
        first = after
    return months


def elapsed_share(start: datetime, end: datetime, now: datetime) -> float:
    """How much of [start, end) has passed at `now`, between 0 and 1."""
    share = (now - start).total_seconds() / (end - start).total_seconds()
    return min(1.0, max(0.0, share))


_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SCHEDULE = re.compile(r"^(daily|mon|tue|wed|thu|fri|sat|sun)\s+([01]\d|2[0-3]):([0-5]\d)$")


def next_run(schedule: str, zone: str, after: datetime) -> datetime:
    """The first time after `after` that a schedule ("mon 09:00", "daily 08:30") comes round,
    in the zone's local time; returned in UTC. A time the clocks show twice comes round the
    first time, one they skip when they jump over it. ValueError names a bad schedule or
    zone."""
    match = _SCHEDULE.match(schedule.strip().lower())
    if match is None:
        raise ValueError(f"{schedule!r}: expected DAY HH:MM, DAY one of daily, {', '.join(_DAYS)}")
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{zone!r} is not a time zone") from None
    clock = time(int(match[2]), int(match[3]))
    today = after.astimezone(tz).date()
    for days in range(8):
        day = today + timedelta(days=days)
        if match[1] != "daily" and _DAYS[day.weekday()] != match[1]:
            continue
        # Compared as instants: on the wall clock the hour shown twice would name a past one.
        moment = instant(day, clock, tz)
        if moment > after:
            return moment
    raise AssertionError("a weekly schedule always comes round within eight days")
