"""Per-rule state: folded in any order it is the same; its decay is the half-life's."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from leadflow.core.bulk_state import NO_TIME, StateColumns
from leadflow.core.bulk_state import rule_points as bulk_rule_points
from leadflow.core.engagement_state import (
    STEP,
    RuleState,
    decayed_value,
    epoch_micros,
    fold,
    grow,
    half_life_micros,
)
from leadflow.core.facts import EventFacts
from leadflow.core.playbook_text import parse_playbook
from leadflow.core.scoring import match_event, rule_points, rule_state

NOW = datetime(2026, 6, 1, 9, 30, tzinfo=UTC)
ages = st.lists(st.floats(min_value=0, max_value=5000, allow_nan=False), max_size=30)


def folded(points: float, times: list[int], half_life_us: int) -> RuleState:
    state = RuleState()
    for k, time_us in enumerate(times):
        state = fold(state, points, time_us, str(k), half_life_us=half_life_us, keep=5)
    return state


@settings(max_examples=200, deadline=None)
@given(
    days=ages,
    points=st.sampled_from([0.1, 3.3, -7.77, 25.0, 1e-3]),
    half_life=st.sampled_from([0.75, 1.0, 14.0, 30.5]),
    seed=st.randoms(use_true_random=False),
)
def test_any_order_gives_the_same_value(
    days: list[float], points: float, half_life: float, seed: object
) -> None:
    h_us = half_life_micros(half_life)
    times = [epoch_micros(NOW - timedelta(days=d)) for d in days]
    shuffled = list(times)
    seed.shuffle(shuffled)  # type: ignore[attr-defined]
    a, b = folded(points, times, h_us), folded(points, shuffled, h_us)
    assert a.count == b.count == len(times)
    if not times:
        assert a.band is None
        return
    assert a.band == b.band and a.anchored() == b.anchored()
    now_us = epoch_micros(NOW)
    assert decayed_value(a.anchored(), a.band, now_us, h_us) == decayed_value(
        b.anchored(), b.band, now_us, h_us
    )


@settings(max_examples=200, deadline=None)
@given(days=ages, half_life=st.sampled_from([1.0, 14.0]))
def test_the_value_is_the_decayed_sum(days: list[float], half_life: float) -> None:
    h_us = half_life_micros(half_life)
    times = [epoch_micros(NOW - timedelta(days=d)) for d in days]
    state = folded(10.0, times, h_us)
    newest = max(times, default=0)
    expected = math.fsum(
        10.0 * 0.5 ** ((epoch_micros(NOW) - t) / h_us)
        for t in times
        if (newest - t) / h_us < STEP  # far older than the newest event weighs nothing
    )
    value = (
        0.0
        if state.band is None
        else decayed_value(state.anchored(), state.band, epoch_micros(NOW), h_us)
    )
    assert math.isclose(value, expected, rel_tol=1e-9, abs_tol=1e-300)


@given(st.lists(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), max_size=40))
def test_partials_hold_the_exact_sum(values: list[float]) -> None:
    partials: tuple[float, ...] = ()
    for k, value in enumerate(values):
        partials = grow(partials, value)
        assert math.fsum(partials) == math.fsum(values[: k + 1])


BOOK = """
name: State aged in bulk
engagement:
  half_life_days: 0.75
  rules:
    - {id: fading, label: Fading, points: 3.3, cap: 9.99, event: {type: track}}
    - {id: slow, label: Slow, points: 0.25, half_life_days: 14, event: {type: page}}
    - {id: flat, label: Flat, points: -7.77, decay: false, cap: 20, event: {type: track}}
    - {id: busy, label: Busy, points: 10, window: {count: 3, days: 2.5}, event: {type: page}}
"""


@settings(max_examples=60, deadline=None)
@given(
    leads=st.lists(
        st.lists(
            st.tuples(st.sampled_from(["page", "track"]), st.floats(0, 30, allow_nan=False)),
            max_size=12,
        ),
        min_size=1,
        max_size=8,
    ),
    later=st.floats(0, 10, allow_nan=False),
)
def test_bulk_aging_equals_the_core(leads: list[list[tuple[str, float]]], later: float) -> None:
    playbook = parse_playbook(BOOK)
    now = NOW + timedelta(days=later)
    rows: dict[str, list[int]] = {k: [] for k in ("lead", "rule", "count", "band", "window")}
    anchored: list[float] = []
    expected = np.zeros((len(leads), len(playbook.engagement.rules)))
    for i, drawn in enumerate(leads):
        events = [EventFacts(str(k), t, NOW - timedelta(days=d)) for k, (t, d) in enumerate(drawn)]
        matches = [m for e in events for m in match_event(playbook, e)]
        for r, rule in enumerate(playbook.engagement.rules):
            state = rule_state(playbook, rule, [m for m in matches if m.rule_id == rule.id])
            if not state.count:
                continue
            expected[i, r] = round(rule_points(playbook, rule, state, now)[0], 2)
            count = rule.window.count if rule.window else 0
            window = state.latest[-count][0] if count and len(state.latest) >= count else NO_TIME
            for key, value in zip(rows, (i, r, state.count, state.band or 0, window), strict=True):
                rows[key].append(value)
            anchored.append(state.anchored() if state.band is not None else math.nan)
    columns = StateColumns(
        *(np.array(rows[k], np.int64) for k in ("lead", "rule", "count", "band")),
        np.array(anchored, np.float64),
        np.array(rows["window"], np.int64),
    )
    got = bulk_rule_points(playbook, columns, len(leads), now)
    assert got.tolist() == expected.tolist()
