"""A rep's working week, and deadlines counted in working time (pure; `now` is a parameter)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from leadflow.core import local_time
from leadflow.core.local_time import instant

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


MIDNIGHT = "24:00"  # a day's end at midnight: `end` None


@dataclass(frozen=True, slots=True)
class WorkingHours:
    """Working days (0 = Monday), daily start and end (None: midnight, written 24:00), in a
    time zone. A shift whose end is at or before its start is a night shift: it starts on
    the working day and ends the next morning (`mon-fri 22:00-06:00` ends on Saturday)."""

    days: frozenset[int] = frozenset(range(5))
    start: time = time(9, 0)
    end: time | None = time(17, 0)
    zone: str = "UTC"

    @classmethod
    def parse(cls, text: str, zone: str = "UTC") -> WorkingHours:
        """`mon-fri 09:00-17:00`, `mon,wed,fri 08:30-12:00` or a night shift such as
        `mon-fri 22:00-06:00`; ValueError naming the problem."""
        try:
            days_text, hours_text = text.strip().lower().split()
            start_text, end_text = hours_text.split("-")
            start = time.fromisoformat(start_text)
            end = None if end_text == MIDNIGHT else time.fromisoformat(end_text)
        except ValueError:
            raise ValueError(f"{text!r}: expected e.g. 'mon-fri 09:00-17:00' (to 24:00)") from None
        if end == start:
            raise ValueError(
                f"{text!r}: a shift that ends when it starts (00:00-24:00 is a whole day)"
            )
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{zone!r} is not a time zone (e.g. Europe/Berlin)") from None
        return cls(_days(days_text), start, end, zone)

    def describe(self) -> str:
        days = ",".join(DAY_NAMES[d] for d in sorted(self.days))
        end = MIDNIGHT if self.end is None else f"{self.end:%H:%M}"
        return f"{days} {self.start:%H:%M}-{end} {self.zone}"

    def is_working(self, at: datetime) -> bool:
        """True when `at` falls inside the working week."""
        zone = ZoneInfo(self.zone)
        day = at.astimezone(zone).date()
        for started in self._days_covering(day):
            if started.weekday() in self.days:
                opens, closes = self._span(started, zone)
                if opens <= at < closes:
                    return True
        return False

    def add(self, start: datetime, minutes: float) -> datetime:
        """The moment (in UTC) `minutes` of working time after `start`: the minutes that pass,
        counted in real time inside the working hours as the rep's clocks show them (a day
        the clocks go forward or back has an hour less or more of them)."""
        if not self.days:
            raise ValueError("no working days: a deadline would never come")
        zone = ZoneInfo(self.zone)
        moment = start.astimezone(UTC)
        day = self._days_covering(moment.astimezone(zone).date())[0]
        try:
            left = timedelta(minutes=minutes)
            while True:  # every week has working time: ends by the calendar's end at the latest
                if day.weekday() in self.days:
                    opens, closes = self._span(day, zone)
                    moment = max(moment, opens)
                    if moment < closes:
                        if moment + left <= closes:
                            return moment + left
                        left -= closes - moment
                day += timedelta(days=1)
        except OverflowError:
            raise ValueError(f"{minutes} working minutes run past the year 9999") from None

    def day_start(self, now: datetime) -> datetime:
        """When the rep's working day that `now` falls in began (in UTC), what a daily
        capacity counts from: their midnight, or for a night shift the morning its last
        shift ended (Tuesday 02:00 counts from Monday 06:00, so Monday night is one day)."""
        zone = ZoneInfo(self.zone)
        if not self.overnight or self.end is None:
            return local_time.day_start(now, zone)  # midnight, as the rep's clocks show it
        today = now.astimezone(zone).date()
        morning = instant(today, self.end, zone)
        return morning if morning <= now else instant(today - timedelta(days=1), self.end, zone)

    @property
    def overnight(self) -> bool:
        """Each shift ends the next day (a night shift)."""
        return self.end is not None and self.end <= self.start

    def _days_covering(self, day: date) -> tuple[date, ...]:
        """The days whose shifts may cover a moment of local date `day`: the day before too
        for night shifts (Tuesday 02:00 is in Monday's)."""
        return (day - timedelta(days=1), day) if self.overnight else (day,)

    def _span(self, day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """When the shift starting on `day` opens and closes, in UTC."""
        opens = instant(day, self.start, zone)
        if self.end is None:
            return opens, instant(day + timedelta(days=1), time(0), zone)
        closes_on = day + timedelta(days=1) if self.overnight else day
        return opens, instant(closes_on, self.end, zone)


def _days(text: str) -> frozenset[int]:
    found: set[int] = set()
    for part in text.split(","):
        first, _, last = part.partition("-")
        if first not in DAY_NAMES or (last and last not in DAY_NAMES):
            raise ValueError(f"{part!r}: days are mon, tue, wed, thu, fri, sat, sun")
        a, b = DAY_NAMES.index(first), DAY_NAMES.index(last or first)
        found.update(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
    return frozenset(found)
