"""Per-rule engagement state: what one engagement rule knows of a lead, updated event by event.

A rule's points at `now` are read from a small state instead of the lead's whole history, so
an event costs the same for a lead with 100,000 past events as for a new one. Every state is
exact: folding events one at a time, in any order, gives the state that folding them all at
once gives, and the bulk path reproduces its points to the bit (see CONVENTIONS.md, Scoring).

Decay is measured in half-lives since 1970 (`split`): an event at `k + j / 2**30` half-lives
is worth `points * 2**(j / 2**30)` (three table lookups, multiplied left to right) times
`2**(k - base)`, where `base` is the start of its band of `STEP` half-lives. A band's sum is
kept as Shewchuk partials (floats whose exact sum is the exact sum of the terms), so adding a
term is exact; only the newest two bands are kept (older ones weigh under 2**-STEP).
"""

from __future__ import annotations

import math
from bisect import insort
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

STEP = 64  # half-lives per band
FRACTION_BITS = 30  # a half-life is cut into 2**30 steps (about a millisecond for 14 days)
LATEST = 20  # event ids kept per rule for the explanation
_MICROSECOND = timedelta(microseconds=1)
_EPOCH = datetime(1970, 1, 1)


def epoch_micros(moment: datetime) -> int:
    """Microseconds since 1970-01-01 (UTC for an aware moment): exact, unlike float seconds."""
    epoch = _EPOCH.replace(tzinfo=UTC) if moment.tzinfo else _EPOCH
    return (moment - epoch) // _MICROSECOND


def from_micros(micros: int, like: datetime) -> datetime:
    """The moment `micros` after the epoch, aware when `like` is."""
    epoch = _EPOCH.replace(tzinfo=UTC) if like.tzinfo else _EPOCH
    return epoch + timedelta(microseconds=micros)


def _table(level: int, sign: int) -> tuple[float, ...]:
    scale = 2.0 ** (-10 * (level + 1))
    return tuple(2.0 ** (sign * i * scale) for i in range(1024))


UP = tuple(_table(level, 1) for level in range(3))  # 2**(+i / 2**10), / 2**20, / 2**30
DOWN = tuple(_table(level, -1) for level in range(3))


def half_life_micros(days: float) -> int:
    """A half-life in whole microseconds (as `timedelta` rounds it)."""
    return timedelta(days=days) // _MICROSECOND


def window_micros(days: float) -> int:
    """A window's length in whole microseconds, as the core compares times."""
    return timedelta(days=days) // _MICROSECOND


def split(micros: int, half_life_us: int) -> tuple[int, int]:
    """A moment as whole half-lives since 1970 and the fraction of the next, in 2**-30 steps."""
    whole, rest = divmod(micros, half_life_us)
    steps = int(rest / half_life_us * 2.0**FRACTION_BITS)  # rest / h < 1: floor of a float
    return whole, min(steps, 2**FRACTION_BITS - 1)


def scaled(value: float, steps: int, table: tuple[tuple[float, ...], ...]) -> float:
    """`value * 2**(+-steps / 2**30)` by three lookups, multiplied left to right."""
    return value * table[0][steps >> 20] * table[1][(steps >> 10) & 1023] * table[2][steps & 1023]


def grow(partials: tuple[float, ...], x: float) -> tuple[float, ...]:
    """Shewchuk's partials of (their exact sum + x): still exact, non-overlapping, ascending."""
    out: list[float] = []
    for y in partials:
        if abs(x) < abs(y):
            x, y = y, x
        high = x + y
        low = y - (high - x)
        if low:
            out.append(low)
        x = high
    if x or not out:
        out.append(x)
    return tuple(out)


@dataclass(frozen=True, slots=True)
class RuleState:
    """One rule's knowledge of one lead.

    `count`: events matched; `latest`: the newest (time in microseconds, event id), oldest
    first, at most max(LATEST, window count); `band`, `top`, `below`: the decayed sum's newest
    band and the partials of it and of the band before (decayed rules only).
    """

    count: int = 0
    latest: tuple[tuple[int, str], ...] = ()
    band: int | None = None
    top: tuple[float, ...] = ()
    below: tuple[float, ...] = ()

    def anchored(self) -> float:
        """The decayed sum at the start of the newest band (`band * STEP` half-lives)."""
        return math.fsum(self.top) + math.ldexp(math.fsum(self.below), -STEP)


def event_key(time_us: int, event_id: str) -> tuple[int, int, str]:
    """Order of events: by time, then by id (numeric ids in numeric order)."""
    return (time_us, len(event_id), event_id)


def _add_decayed(
    state: RuleState, points: float, time_us: int, half_life_us: int
) -> tuple[int | None, tuple[float, ...], tuple[float, ...]]:
    whole, steps = split(time_us, half_life_us)
    band = whole // STEP
    term = math.ldexp(scaled(points, steps, UP), whole - band * STEP)
    top, below, current = state.top, state.below, state.band
    if current is None or band > current:
        below = top if current is not None and band == current + 1 else ()
        return band, (term,), below
    if band == current:
        return current, grow(top, term), below
    if band == current - 1:
        return current, top, grow(below, term)
    return current, top, below  # older than the two bands kept: weighs under 2**-STEP


def fold(
    state: RuleState,
    points: float,
    time_us: int,
    event_id: str,
    *,
    half_life_us: int | None,
    keep: int,
) -> RuleState:
    """The state after one more matched event (in any order: the result is the same)."""
    latest = list(state.latest)
    insort(latest, (time_us, event_id), key=lambda e: event_key(*e))
    band, top, below = state.band, state.top, state.below
    if half_life_us is not None:
        band, top, below = _add_decayed(state, points, time_us, half_life_us)
    return RuleState(state.count + 1, tuple(latest[-keep:]), band, top, below)


def decayed_value(anchored: float, band: int, now_us: int, half_life_us: int) -> float:
    """The anchored sum aged to `now`: times 2**-(now - band start) in half-lives."""
    whole, steps = split(now_us, half_life_us)
    return math.ldexp(scaled(anchored, steps, DOWN), band * STEP - whole)


def capped(value: float, cap: float | None) -> float:
    """The value held within +-cap."""
    if cap is not None and abs(value) > cap:
        return math.copysign(cap, value)
    return value


def keep_for(window_count: int | None) -> int:
    """How many latest events a rule's state keeps."""
    return max(LATEST, window_count or 0)
