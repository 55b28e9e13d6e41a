"""When a stored state's points next change (`bulk_state.changes_at`): never late, so a decay
pass that reads only the states due loses nothing, and close, so it reads little more."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from leadflow.core.bulk_state import (
    EARLIER,
    NEVER,
    NO_TIME,
    StateColumns,
    changes_at,
    rule_points_at,
)
from leadflow.core.engagement_state import epoch_micros, half_life_micros
from leadflow.core.facts import EventFacts
from leadflow.core.playbook import Playbook
from leadflow.core.playbook_text import parse_playbook
from leadflow.core.scoring import _half_life, match_event, rule_state

NOW = datetime(2026, 6, 1, 9, 30, tzinfo=UTC)
BOOK = """
name: When points change
engagement:
  half_life_days: 0.75
  rules:
    - {id: fading, label: Fading, points: 3.3, cap: 9.99, event: {type: track}}
    - {id: slow, label: Slow, points: 0.25, half_life_days: 14, event: {type: page}}
    - {id: fall, label: Fall, points: -7.77, half_life_days: 3, event: {type: identify}}
    - {id: flat, label: Flat, points: -7.77, decay: false, cap: 20, event: {type: track}}
    - {id: busy, label: Busy, points: 10, window: {count: 3, days: 2.5}, event: {type: page}}
"""
KINDS = ["page", "track", "identify"]


def states_of(playbook: Playbook, drawn: list[tuple[str, float]]) -> StateColumns:
    """One lead's states (every rule it has events for) as the decay pass reads them."""
    events = [EventFacts(str(k), t, NOW - timedelta(days=d)) for k, (t, d) in enumerate(drawn)]
    matches = [m for e in events for m in match_event(playbook, e)]
    rows: list[tuple[int, int, int, float, int]] = []
    for r, rule in enumerate(playbook.engagement.rules):
        state = rule_state(playbook, rule, [m for m in matches if m.rule_id == rule.id])
        count = rule.window.count if rule.window else 0
        window = state.latest[-count][0] if count and len(state.latest) >= count else NO_TIME
        anchored = state.anchored() if state.band is not None else math.nan
        rows.append((r, state.count, state.band or 0, anchored, window))
    rule, count, band, anchored, window = (list(c) for c in zip(*rows, strict=True))
    return StateColumns(
        np.zeros(len(rows), np.int64),
        *(np.array(c, np.int64) for c in (rule, count, band)),
        np.array(anchored, np.float64),
        np.array(window, np.int64),
    )


def points_at(playbook: Playbook, states: StateColumns, at: int) -> list[float]:
    return list(rule_points_at(playbook, states, np.array([at], np.int64))[0])


@settings(max_examples=150, deadline=None)
@given(
    drawn=st.lists(
        st.tuples(st.sampled_from(KINDS), st.floats(0, 30, allow_nan=False)), max_size=14
    ),
    later=st.floats(0, 20, allow_nan=False),
    between=st.floats(0, 1, allow_nan=False),
)
def test_points_hold_until_the_moment_of_change(
    drawn: list[tuple[str, float]], later: float, between: float
) -> None:
    playbook = parse_playbook(BOOK)
    states = states_of(playbook, drawn)
    now_us = epoch_micros(NOW + timedelta(days=later))
    moments = changes_at(playbook, states, np.array([now_us], np.int64))
    now_points = points_at(playbook, states, now_us)
    for r, (rule, moment) in enumerate(
        zip(playbook.engagement.rules, moments.tolist(), strict=True)
    ):
        assert moment > now_us
        if moment == NEVER:  # only new events change it: far in the future, the same
            assert points_at(playbook, states, now_us + 10**15)[r] == now_points[r]
            continue
        inside = now_us + int((moment - 1 - now_us) * between)
        assert points_at(playbook, states, moment - 1)[r] == now_points[r]  # never late
        assert points_at(playbook, states, inside)[r] == now_points[r]
        half_life = _half_life(playbook, rule)
        step = half_life_micros(half_life) // 2**30 + 1 if half_life else 0
        if rule.window is not None:
            assert points_at(playbook, states, moment)[r] == 0.0  # exact: the window closes
        else:  # close: at most the margin and one step of the stepped decay after it
            assert points_at(playbook, states, moment + EARLIER + step + 1)[r] != now_points[r]


def test_rows_of_no_rule_empty_states_and_points_decayed_to_zero_never_change() -> None:
    playbook = parse_playbook(BOOK)
    band = epoch_micros(NOW) // half_life_micros(0.75) // 64
    states = StateColumns(
        np.zeros(4, np.int64),
        np.array([-1, 5, 0, 0], np.int64),  # no rule of the playbook, the marker, fading, fading
        np.array([3, 0, 0, 2], np.int64),
        np.full(4, band, np.int64),
        np.array([5.0, 0.0, 0.0, 1e-30]),
        np.full(4, NO_TIME, np.int64),
    )
    moments = changes_at(playbook, states, np.array([epoch_micros(NOW)], np.int64))
    assert moments.tolist() == [NEVER] * 4
