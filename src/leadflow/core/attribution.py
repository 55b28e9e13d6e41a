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
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

MODELS = ("first_touch", "last_touch", "linear", "u_shaped", "w_shaped", "time_decay")
U_ENDS = 0.4
W_KEY = 0.3


@dataclass(frozen=True, slots=True)
class Path:
    """One won lead's touches, oldest first, and the moments the W-shaped model keys on."""

    campaigns: Sequence[str]
    times: Sequence[datetime]
    created_at: datetime
    opportunity_at: datetime | None
    won_at: datetime


# The models that read only how many touches there are, not when they were.
BY_POSITION = ("first_touch", "last_touch", "linear", "u_shaped")


def by_position(n: int, model: str) -> list[float]:
    """The shares of `n` touches under a model of BY_POSITION; they add up to 1."""
    if n == 0:
        return []
    if model == "first_touch":
        return [1.0] + [0.0] * (n - 1)
    if model == "last_touch":
        return [0.0] * (n - 1) + [1.0]
    if model == "linear":
        return [1.0 / n] * n
    if model == "u_shaped":
        return _u_shaped(n)
    raise ValueError(f"{model!r} is not one of {', '.join(BY_POSITION)}")


def weights(path: Path, model: str, half_life_days: float = 7.0) -> list[float]:
    """The share of the deal each touch gets under `model`; they add up to 1."""
    n = len(path.campaigns)
    if n == 0:
        return []
    if model in BY_POSITION:
        return by_position(n, model)
    if model == "w_shaped":
        return _w_shaped(path)
    if model == "time_decay":
        return _time_decay(path, half_life_days)
    raise ValueError(f"unknown attribution model {model!r}; one of {', '.join(MODELS)}")


def _u_shaped(n: int) -> list[float]:
    if n <= 2:
        return [1.0 / n] * n
    middle = (1.0 - 2 * U_ENDS) / (n - 2)
    return [U_ENDS] + [middle] * (n - 2) + [U_ENDS]


def _latest_at_or_before(times: Sequence[datetime], moment: datetime | None) -> int:
    """The index of the latest touch at or before `moment`; the last touch without one, the
    first when every touch came after it."""
    if moment is None:
        return len(times) - 1
    found = [k for k, at in enumerate(times) if at <= moment]
    return found[-1] if found else 0


def _w_shaped(path: Path) -> list[float]:
    n = len(path.campaigns)
    found = [0.0] * n
    for role in (0, _latest_at_or_before(path.times, path.created_at),
                 _latest_at_or_before(path.times, path.opportunity_at)):  # fmt: skip
        found[role] += W_KEY
    others = [k for k in range(n) if found[k] == 0.0]
    if not others:
        keyed = math.fsum(found)
        return [share / keyed for share in found]
    for k in others:
        found[k] = (1.0 - 3 * W_KEY) / len(others)
    return found


def _time_decay(path: Path, half_life_days: float) -> list[float]:
    if half_life_days <= 0:
        raise ValueError("half_life_days must be more than 0")
    ages = [max(0.0, (path.won_at - at).total_seconds() / 86400.0) for at in path.times]
    youngest = min(ages)  # relative to the newest touch: no underflow on old paths
    raw = [math.exp2(-(age - youngest) / half_life_days) for age in ages]
    total = math.fsum(raw)
    return [w / total for w in raw]
