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

from leadflow.core.bulk_columns import FloatArray, IntArray
from leadflow.core.bulk_events import scaled_array, split_array
from leadflow.core.bulk_math import round_points
from leadflow.core.engagement_state import (
    DOWN,
    STEP,
    epoch_micros,
    half_life_micros,
    window_micros,
)
from leadflow.core.playbook import Playbook
from leadflow.core.scoring import _half_life

NO_TIME = np.iinfo(np.int64).min  # a window without `count` events yet


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
        lead = states.lead[mine]
        at = now_us[lead]
        if rule.window is not None:
            since = at - window_micros(rule.window.days)
            out[lead, r] = np.where(states.window_from[mine] > since, rule.points, 0.0)
            continue
        half_life = _half_life(playbook, rule)
        if half_life:
            whole, steps = split_array(at, half_life_micros(half_life))
            value = scaled_array(states.anchored[mine], steps, DOWN)
            exponent = states.band[mine] * STEP - whole
            value = np.ldexp(value, np.clip(exponent, -2000, 2000).astype(np.int32))
        else:
            value = states.count[mine] * rule.points
        if rule.cap is not None:
            value = np.where(np.abs(value) > rule.cap, np.copysign(rule.cap, value), value)
        out[lead, r] = round_points(np.asarray(value, np.float64))
    return out


def hundredths(points: FloatArray) -> IntArray:
    """Points (each a rounded hundredth) as integer hundredths."""
    result: IntArray = np.rint(points * 100.0).astype(np.int64)
    return result
