"""Rounded means and percentiles from sums and a few ranks equal NumPy's over the values."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from leadflow.core.ranked_figures import needed_ranks, percentiles_at, rounded_mean
from leadflow.core.report_math import percentiles

DAYS = st.floats(min_value=-30.0, max_value=400.0, allow_nan=False)
# Few distinct values: ties, and ranks that fall on runs of equal values.
LUMPY = st.sampled_from([0.0, 0.005, 1.0 / 3.0, 2.5, 2.5, 7.125, 1e-9])


def _from_ranks(values: np.ndarray) -> dict[str, float | None]:
    ordered = np.sort(values)
    return percentiles_at(values.size, {r: float(ordered[r]) for r in needed_ranks(values.size)})


@settings(max_examples=300)
@given(st.lists(DAYS | LUMPY, max_size=300))
def test_percentiles_from_ranks_are_numpys(values: list[float]) -> None:
    array = np.array(values, dtype=np.float64)
    assert _from_ranks(array) == percentiles(array)


@given(st.integers(min_value=1, max_value=3000), st.integers(min_value=0, max_value=2**32))
def test_percentiles_from_ranks_hold_for_every_size(n: int, seed: int) -> None:
    array = np.random.default_rng(seed).exponential(4.0, n)
    assert _from_ranks(array) == percentiles(array)


@settings(max_examples=300)
@given(st.lists(DAYS | LUMPY, min_size=1, max_size=300), st.randoms(use_true_random=False))
def test_a_rounded_mean_from_any_order_is_numpys_or_none(values: list[float], order) -> None:
    array = np.array(values, dtype=np.float64)
    shuffled = list(values)
    order.shuffle(shuffled)
    total = 0.0
    for value in shuffled:  # the database's sum: one by one, in its own order
        total += value
    magnitude = math.fsum(abs(v) for v in values)
    mean = rounded_mean(total, magnitude, len(values))
    assert mean is None or mean == round(float(array.mean()), 2)


def test_a_mean_on_a_rounding_boundary_is_left_to_the_values() -> None:
    # 0.005 is a little over the boundary as a float: a sum a hair lower rounds down.
    assert rounded_mean(0.005, 0.005, 1) is None
    assert rounded_mean(0.015 * 3, 0.045, 3) is None
    assert rounded_mean(4.93, 4.93, 1) == 4.93


def test_most_means_need_no_values() -> None:
    rng = np.random.default_rng(7)
    known = 0
    for _ in range(200):
        days = rng.exponential(5.0, 5000)
        mean = rounded_mean(float(days.sum()), float(np.abs(days).sum()), days.size)
        known += mean is not None
        assert mean is None or mean == round(float(days.mean()), 2)
    assert known >= 195


def test_no_values_have_no_figures() -> None:
    assert rounded_mean(0.0, 0.0, 0) is None
    assert percentiles_at(0, {}) == {"p50": None, "p90": None}
    assert needed_ranks(0) == []
