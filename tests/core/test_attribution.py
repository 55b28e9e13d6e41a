"""Attribution models: the weights each gives a path's touches, and that they add up to 1."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadflow.core.attribution import MODELS, Path, weights

T0 = datetime(2026, 9, 1, tzinfo=UTC)


def path(days: list[float], created: float, opportunity: float | None, won: float) -> Path:
    times = [T0 + timedelta(days=d) for d in days]
    return Path([f"c{k}" for k in range(len(days))], times, T0 + timedelta(days=created),
                None if opportunity is None else T0 + timedelta(days=opportunity),
                T0 + timedelta(days=won))  # fmt: skip


def test_u_shaped_gives_the_ends_forty_percent_each() -> None:
    assert weights(path([0, 1, 2, 3], 0, 3, 4), "u_shaped") == pytest.approx([0.4, 0.1, 0.1, 0.4])
    assert weights(path([0, 1], 0, 1, 2), "u_shaped") == [0.5, 0.5]
    assert weights(path([0], 0, 0, 1), "u_shaped") == [1.0]


def test_w_shaped_keys_on_first_touch_creation_and_opportunity() -> None:
    # touches on days 0..5, created on day 2 (touch 2), opportunity on day 4.5 (touch 4)
    found = weights(path([0, 1, 2, 3, 4, 5], 2, 4.5, 6), "w_shaped")
    assert found == pytest.approx([0.3, 1 / 30, 0.3, 1 / 30, 0.3, 1 / 30])
    # created at the first touch: it earns both shares
    assert weights(path([0, 1, 2, 3, 4], 0, 4, 5), "w_shaped") == pytest.approx(
        [0.6, 0.1 / 3, 0.1 / 3, 0.1 / 3, 0.3]
    )
    # only key touches: they share all of it in proportion (60:30)
    assert weights(path([0, 1], 0, 1, 2), "w_shaped") == pytest.approx([2 / 3, 1 / 3])


def test_time_decay_halves_a_touch_per_half_life() -> None:
    found = weights(path([0, 7, 14], 0, 14, 14), "time_decay", half_life_days=7)
    assert found == pytest.approx([1 / 7, 2 / 7, 4 / 7])
    with pytest.raises(ValueError, match="half_life_days"):
        weights(path([0], 0, 0, 1), "time_decay", half_life_days=0)


@given(
    days=st.lists(st.floats(0, 400), min_size=1, max_size=30).map(sorted),
    created=st.floats(-10, 400),
    opportunity=st.none() | st.floats(-10, 400),
    half_life=st.floats(0.01, 365),
)
def test_every_model_shares_out_the_whole_deal(
    days: list[float], created: float, opportunity: float | None, half_life: float
) -> None:
    touches = path(days, created, opportunity, days[-1] + 1)
    for model in MODELS:
        found = weights(touches, model, half_life)
        assert len(found) == len(days) and min(found) >= 0
        assert math.isclose(math.fsum(found), 1.0, rel_tol=1e-12), model
