"""Local wall-clock times as instants, the way a clock on the wall passes them (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def instant(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """The moment (in UTC) a clock in `zone` reaches `clock` on `day`: a time shown twice (the
    hour clocks are put back) is its first showing; a time the clocks skip (put forward) is
    reached when they jump over it, the first moment they show a later time."""
    wall = datetime.combine(day, clock)
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if _wall(first, zone) == wall:
        return first  # it exists; fold 0 is its first showing when shown twice
    # Skipped: fold 0 reads it with the offset before the jump (after the jump, by as much as
    # it was into the gap), fold 1 with the one after (before the jump). The jump is between.
    before = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    after = first
    # Offsets change on whole seconds: halve the whole seconds between them.
    second = timedelta(seconds=1)
    while after - before > second:
        middle = before + (after - before) // second // 2 * second
        if _wall(middle, zone) >= wall:
            after = middle
        else:
            before = middle
    return after


def day_start(moment: datetime, zone: ZoneInfo) -> datetime:
    """The moment (in UTC) the day `moment` falls on in `zone` began there: `instant` of its
    00:00 (its first showing when the clocks are put back to midnight, as in America/Havana;
    the jump when they skip it). Not `moment`'s wall clock set to 00:00, which during a
    repeated midnight hour is its second showing, an hour into the day."""
    return instant(moment.astimezone(zone).date(), time(0), zone)


def _wall(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.astimezone(zone).replace(tzinfo=None)
