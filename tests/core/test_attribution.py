"""Attribution models: the weights each gives a path's touches, and that they add up to 1;
and that the columnar, integer-time computation gives exactly what the per-path,
datetime one it replaced (kept here as the reference) gave."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadflow.core.attribution import MODELS, NEVER, Path, Paths, weights, weights_of

T0 = datetime(2026, 9, 1, tzinfo=UTC)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def micros(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)


def path(days: list[float], created: float, opportunity: float | None, won: float) -> Path:
    times = [micros(T0 + timedelta(days=d)) for d in days]
    return Path([f"c{k}" for k in range(len(days))], times, micros(T0 + timedelta(days=created)),
                None if opportunity is None else micros(T0 + timedelta(days=opportunity)),
                micros(T0 + timedelta(days=won)))  # fmt: skip


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


def test_an_unknown_model_is_named() -> None:
    with pytest.raises(ValueError, match="'nine_touch'"):
        weights(path([0], 0, 0, 1), "nine_touch")


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


# The reference: one path at a time, in datetimes, as the report computed it before.
@dataclass(frozen=True)
class DatetimePath:
    times: Sequence[datetime]
    created_at: datetime
    opportunity_at: datetime | None
    won_at: datetime


def reference(path: DatetimePath, model: str, half_life_days: float) -> list[float]:
    n = len(path.times)
    if model == "first_touch":
        return [1.0] + [0.0] * (n - 1)
    if model == "last_touch":
        return [0.0] * (n - 1) + [1.0]
    if model == "linear":
        return [1.0 / n] * n
    if model == "u_shaped":
        if n <= 2:
            return [1.0 / n] * n
        middle = (1.0 - 2 * 0.4) / (n - 2)
        return [0.4] + [middle] * (n - 2) + [0.4]
    if model == "w_shaped":
        return reference_w_shaped(path)
    ages = [max(0.0, (path.won_at - at).total_seconds() / 86400.0) for at in path.times]
    youngest = min(ages)
    raw = [math.exp2(-(age - youngest) / half_life_days) for age in ages]
    total = math.fsum(raw)
    return [w / total for w in raw]


def latest_at_or_before(times: Sequence[datetime], moment: datetime | None) -> int:
    if moment is None:
        return len(times) - 1
    found = [k for k, at in enumerate(times) if at <= moment]
    return found[-1] if found else 0


def reference_w_shaped(path: DatetimePath) -> list[float]:
    n = len(path.times)
    found = [0.0] * n
    for role in (0, latest_at_or_before(path.times, path.created_at),
                 latest_at_or_before(path.times, path.opportunity_at)):  # fmt: skip
        found[role] += 0.3
    others = [k for k in range(n) if found[k] == 0.0]
    if not others:
        keyed = math.fsum(found)
        return [share / keyed for share in found]
    for k in others:
        found[k] = (1.0 - 3 * 0.3) / len(others)
    return found


MOMENT = st.integers(0, 400 * 86_400_000_000).map(lambda us: T0 + timedelta(microseconds=us))
PATH = st.builds(
    DatetimePath,
    times=st.lists(MOMENT, min_size=1, max_size=12).map(sorted),
    created_at=MOMENT,
    opportunity_at=st.none() | MOMENT,
    won_at=MOMENT,
)


@given(paths=st.lists(PATH, min_size=1, max_size=8), half_life=st.floats(0.01, 365))
def test_the_columns_in_microseconds_give_exactly_the_datetime_weights(
    paths: list[DatetimePath], half_life: float
) -> None:
    columns = Paths(
        np.array([len(p.times) for p in paths], dtype=np.int64),
        np.array([micros(t) for p in paths for t in p.times], dtype=np.int64),
        np.array([micros(p.created_at) for p in paths], dtype=np.int64),
        np.array(
            [NEVER if p.opportunity_at is None else micros(p.opportunity_at) for p in paths],
            dtype=np.int64,
        ),
        np.array([micros(p.won_at) for p in paths], dtype=np.int64),
    )
    for model in MODELS:
        expected = [w for p in paths for w in reference(p, model, half_life)]
        assert weights_of(columns, model, half_life).tolist() == expected, model
