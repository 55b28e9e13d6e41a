"""How a won deal's amount is shared over the campaign touches on its path (pure).

Each model gives every touch of one lead a weight; a lead's weights add up to 1, so each
model's column, summed over campaigns, is the revenue of the won leads that had a touch.

- first / last touch: all of it to the earliest / latest touch.
- linear: evenly.
- U-shaped (position-based): 40% to the first touch, 40% to the last, 20% spread evenly over
  the touches between (one touch: all of it; two: half each).
- W-shaped: 30% each to three roles: the first touch, the touch that made the lead (the latest
  at or before its creation) and the touch that made the opportunity (the latest at or before
  it became one); the other 10% spread evenly over the other touches. One touch in two roles
  earns both shares; with no other touch, the key touches share all of it in proportion.
- time-decay: a touch `d` days before the win weighs 2**(-d / half_life_days).

The report weighs tens of thousands of paths at once, so the paths are columns (`Paths`):
times are integer microseconds since 1970 and the weights are computed with NumPy, path by
path only where a sum must be exact (`math.fsum`, as a lead's shares must add up to 1).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

MODELS = ("first_touch", "last_touch", "linear", "u_shaped", "w_shaped", "time_decay")
U_ENDS = 0.4
W_KEY = 0.3
# The opportunity moment of a lead that never became one: every touch is before it, so the
# W-shaped model's opportunity role goes to the last touch.
NEVER = np.iinfo(np.int64).max
MICROS_PER_DAY = 86_400.0 * 1_000_000
# The time-decay half-life the report uses unless asked for another (and the one whose
# credit is kept per won lead, `won_credit`).
DEFAULT_HALF_LIFE_DAYS = 7.0

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]

# The models that read only how many touches there are, not when they were.
BY_POSITION = ("first_touch", "last_touch", "linear", "u_shaped")


@dataclass(frozen=True, slots=True)
class Paths:
    """Won leads' touches as columns: each lead's touches in a row, oldest first.

    `lengths` has one entry per lead (each at least 1); `times` one per touch (microseconds
    since 1970; None when only BY_POSITION models are asked for); `created`, `opportunity`
    (NEVER when it never became one) and `won` one per lead, in microseconds.
    """

    lengths: Ints
    times: Ints | None = None
    created: Ints | None = None
    opportunity: Ints | None = None
    won: Ints | None = None


@dataclass(frozen=True, slots=True)
class Path:
    """One won lead's touches, oldest first, and the moments the W-shaped model keys on
    (microseconds since 1970; opportunity_at None when it never became one)."""

    campaigns: Sequence[str]
    times: Sequence[int]
    created_at: int
    opportunity_at: int | None
    won_at: int


def weights(path: Path, model: str, half_life_days: float = DEFAULT_HALF_LIFE_DAYS) -> list[float]:
    """The share of the deal each touch gets under `model`; they add up to 1."""
    n = len(path.campaigns)
    if n == 0:
        return []
    opportunity = NEVER if path.opportunity_at is None else path.opportunity_at
    paths = Paths(
        np.array([n], dtype=np.int64), np.array(path.times, dtype=np.int64),
        np.array([path.created_at], dtype=np.int64), np.array([opportunity], dtype=np.int64),
        np.array([path.won_at], dtype=np.int64),
    )  # fmt: skip
    return [float(w) for w in weights_of(paths, model, half_life_days)]


def weights_of(paths: Paths, model: str, half_life_days: float = DEFAULT_HALF_LIFE_DAYS) -> Floats:
    """Every touch's share of its lead's deal under `model` (each lead's add up to 1)."""
    if model not in MODELS:
        raise ValueError(f"unknown attribution model {model!r}; one of {', '.join(MODELS)}")
    lengths = paths.lengths.astype(np.int64)
    starts = np.cumsum(lengths) - lengths
    position = np.arange(int(lengths.sum()), dtype=np.int64) - np.repeat(starts, lengths)
    n = np.repeat(lengths, lengths)
    if model in BY_POSITION:
        return _by_position(position, n, model)
    if paths.times is None or paths.created is None or paths.won is None:
        raise ValueError(f"the {model} model needs the touches' times")
    if model == "w_shaped":
        opportunity = paths.opportunity
        if opportunity is None:
            opportunity = np.full(lengths.size, NEVER, dtype=np.int64)
        return _w_shaped(paths.times, starts, lengths, position, paths.created, opportunity)
    return _time_decay(paths.times, starts, lengths, paths.won, half_life_days)


def _by_position(position: Ints, n: Ints, model: str) -> Floats:
    first, last = position == 0, position == n - 1
    if model in ("first_touch", "last_touch"):
        ends: Floats = (first if model == "first_touch" else last).astype(np.float64)
        return ends
    even = 1.0 / n.astype(np.float64)
    if model == "linear":
        return even
    middle = (1.0 - 2 * U_ENDS) / np.maximum(n - 2, 1).astype(np.float64)
    u_shaped = np.where(first | last, U_ENDS, middle)
    shares: Floats = np.where(n <= 2, even, u_shaped)
    return shares


def _latest_at_or_before(
    times: Ints, starts: Ints, lengths: Ints, position: Ints, moments: Ints
) -> Ints:
    """Per lead, the position of its latest touch at or before its moment; the first touch
    when every touch came after it (NEVER: the last touch)."""
    before = times <= np.repeat(moments, lengths)
    latest = np.maximum.reduceat(np.where(before, position, -1), starts)
    return np.maximum(latest, 0)


def _w_shaped(
    times: Ints, starts: Ints, lengths: Ints, position: Ints, created: Ints, opportunity: Ints
) -> Floats:
    made_lead = _latest_at_or_before(times, starts, lengths, position, created)
    made_opportunity = _latest_at_or_before(times, starts, lengths, position, opportunity)
    found = np.zeros(times.size, dtype=np.float64)
    for role in (np.zeros_like(made_lead), made_lead, made_opportunity):
        found += np.where(position == np.repeat(role, lengths), W_KEY, 0.0)
    keyed = found != 0.0
    others = lengths - np.add.reduceat(keyed.astype(np.int64), starts)
    rest = (1.0 - 3 * W_KEY) / np.maximum(others, 1).astype(np.float64)
    shares = np.where(keyed, found, np.repeat(rest, lengths))
    for lead in np.flatnonzero(others == 0).tolist():  # few: paths of at most three touches
        span = slice(int(starts[lead]), int(starts[lead] + lengths[lead]))
        shares[span] = found[span] / math.fsum(found[span].tolist())
    return shares


def _time_decay(
    times: Ints, starts: Ints, lengths: Ints, won: Ints, half_life_days: float
) -> Floats:
    if half_life_days <= 0:
        raise ValueError("half_life_days must be more than 0")
    # Whole microseconds to seconds, then days: the same two roundings as timedelta's.
    seconds = (np.repeat(won, lengths) - times).astype(np.float64) / 1_000_000
    ages = np.maximum(seconds / 86400.0, 0.0)
    youngest = np.minimum.reduceat(ages, starts)  # relative to the newest touch: no underflow
    exponents = -(ages - np.repeat(youngest, lengths)) / half_life_days
    # math.exp2, not np.exp2: NumPy's differs in the last bit for some inputs.
    raw = list(map(math.exp2, exponents.tolist()))
    ends = (starts + lengths).tolist()
    totals = [math.fsum(raw[a:b]) for a, b in zip(starts.tolist(), ends, strict=True)]
    shares: Floats = np.array(raw, dtype=np.float64) / np.repeat(np.array(totals), lengths)
    return shares
