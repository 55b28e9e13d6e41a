"""Scores aged from stored per-rule states, every lead at once: no events needed.

Each stored state carries what `core.scoring.rule_points` reads (count, the anchored decayed
sum and its band, the time of a window's count-th latest event), and the same IEEE operations
run here column-wise, in the same order, so every rule's points equal the per-lead core's to
the bit. Sums of points are sums of hundredths: kept as integers (see `core.account_rollup`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from leadflow.core.bulk_columns import BoolArray, FloatArray, IntArray
from leadflow.core.bulk_events import scaled_array, split_array
from leadflow.core.bulk_math import round_points
from leadflow.core.engagement_state import (
    DOWN,
    STEP,
    epoch_micros,
    half_life_micros,
    window_micros,
)
from leadflow.core.playbook import EngagementRule, Playbook
from leadflow.core.scoring import _half_life

NO_TIME = np.iinfo(np.int64).min  # a window without `count` events yet
NEVER = 2**62  # points that only new events change (exact as a float, unlike int64's max)
EARLIER = 1_000_000  # microseconds taken off a solved moment of change: see `changes_at`


@dataclass(frozen=True, slots=True)
class StateColumns:
    """Stored states as columns: lead row, engagement rule index, and the state's figures
    (`band` 0 and `anchored` NaN when not decayed; `window_from` NO_TIME when not full)."""

    lead: IntArray
    rule: IntArray
    count: IntArray
    band: IntArray
    anchored: FloatArray
    window_from: IntArray


def rule_points(playbook: Playbook, states: StateColumns, leads: int, now: datetime) -> FloatArray:
    """Rounded points per lead (row) and engagement rule (column) at `now`."""
    return rule_points_at(playbook, states, np.full(leads, epoch_micros(now), np.int64))


def rule_points_at(playbook: Playbook, states: StateColumns, now_us: IntArray) -> FloatArray:
    """Rounded points per lead and engagement rule, each lead at its own moment (`now_us`,
    epoch microseconds, one per lead): the same operations as `rule_points`, element-wise."""
    rules = playbook.engagement.rules
    out = np.zeros((len(now_us), len(rules)))
    for r, rule in enumerate(rules):
        mine = (states.rule == r) & (states.count > 0)
        out[states.lead[mine], r] = _points(playbook, rule, states, mine, now_us[states.lead[mine]])
    return out


def _points(
    playbook: Playbook, rule: EngagementRule, states: StateColumns, mine: BoolArray, at: IntArray
) -> FloatArray:
    """Rounded points of the state rows `mine` (all of `rule`) at the moments `at`."""
    if rule.window is not None:
        since = at - window_micros(rule.window.days)
        return np.where(states.window_from[mine] > since, rule.points, 0.0)
    half_life = _half_life(playbook, rule)
    value: FloatArray
    if half_life:
        whole, steps = split_array(at, half_life_micros(half_life))
        value = scaled_array(states.anchored[mine], steps, DOWN)
        exponent = states.band[mine] * STEP - whole
        value = np.ldexp(value, np.clip(exponent, -2000, 2000).astype(np.int32))
    else:
        value = np.asarray(states.count[mine] * rule.points, np.float64)
    if rule.cap is not None:
        value = np.where(np.abs(value) > rule.cap, np.copysign(rule.cap, value), value)
    return round_points(np.asarray(value, np.float64))


def changes_at(playbook: Playbook, states: StateColumns, now_us: IntArray) -> IntArray:
    """Per state row, a moment after its lead's `now_us` before which the row's points stay
    what they are at `now_us` (NEVER when only new events can change them; rows of no rule
    of the playbook, like the marker, NEVER too).

    Points only shrink towards zero with time: a full window's points drop to 0 when its
    count-th latest event leaves it; a decayed sum's rounded points change when its value
    falls under the next half-hundredth, found by solving the continuous decay for that
    moment and taking `EARLIER` off (the stepped decay the points are computed with lags
    the continuous one, and the float error of the solution is microseconds). So the moment
    is never late: at worst a pass reads a lead whose points did not move yet."""
    out = np.full(len(states.rule), NEVER, np.int64)
    for r, rule in enumerate(playbook.engagement.rules):
        mine = (states.rule == r) & (states.count > 0)
        at = now_us[states.lead[mine]]
        if rule.window is not None:
            until = states.window_from[mine] + window_micros(rule.window.days)
            full = (states.window_from[mine] != NO_TIME) & (until > at)
            out[mine] = np.where(full & (rule.points != 0), until, NEVER)
            continue
        half_life = _half_life(playbook, rule)
        if not half_life:
            continue  # counts: only events change them
        points = _points(playbook, rule, states, mine, at)
        out[mine] = _decay_change(states, mine, points, at, half_life_micros(half_life))
    return out


def _decay_change(
    states: StateColumns, mine: BoolArray, points: FloatArray, at: IntArray, half_life_us: int
) -> IntArray:
    """When the decayed sums `mine`, whose rounded points at `at` are `points`, fall under
    the half-hundredth below them (see `changes_at`)."""
    hundredths_now = np.abs(hundredths(points))
    bound = (hundredths_now - 0.5) / 100.0
    anchored = np.abs(states.anchored[mine])
    with np.errstate(divide="ignore", invalid="ignore"):
        halvings = np.log2(anchored / np.where(bound > 0, bound, 1.0))
        moment = (states.band[mine] * float(STEP) + halvings) * float(half_life_us) - EARLIER
    moment = np.where(np.isfinite(moment), moment, float(NEVER))
    moment = np.clip(moment, -float(NEVER), float(NEVER))
    found = np.maximum(moment.astype(np.int64), at + 1)
    return np.where(hundredths_now > 0, np.minimum(found, NEVER), NEVER)


def hundredths(points: FloatArray) -> IntArray:
    """Points (each a rounded hundredth) as integer hundredths."""
    result: IntArray = np.rint(points * 100.0).astype(np.int64)
    return result
